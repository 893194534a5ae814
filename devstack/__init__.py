"""The local stack: real PostgreSQL, Redis, S3 (SeaweedFS), Celery and the services, supervised.

A development and test tool, above the kernel: nothing in `streamcore/` imports it.
"""
