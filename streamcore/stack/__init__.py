"""The local stack: real PostgreSQL, Redis, S3 (SeaweedFS), Celery and the services, supervised."""
