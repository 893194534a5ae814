"""The kernel every component shares; it imports no component.

- ``settings``, ``secrets``, ``log``: the one settings object, local secrets, logging set-up.
- ``db/``: PostgreSQL pools, read routing over replicas, migrations.
- ``web/``: what every aiohttp service shares: JSON errors, health, CORS, metrics, HTTP
  representations and ranges, content types, request paths and URL-token checks.
- ``cache/``: the tiered cache, its catalog namespaces, single flight, the Redis client.
- ``storage/``: the object-storage port and its S3 implementation.
- ``signing``: URL tokens, made and checked in one place.
- ``tasks/``: the Celery application factory, task names, dead letters.
- ``assets/``: the asset state machine, its repository and storage keys.
- ``binaries``: where FFmpeg and the stack's service binaries come from.
"""
