"""The task queue: the Celery factory and task names (``queue``); dead letters."""
