"""Celery workers: thin, idempotent tasks that call plain functions of the other components.

`workers.app` builds the Celery application from settings (Redis broker); tasks take ids,
re-load state, and return quietly when their work is gone or already done.
"""
