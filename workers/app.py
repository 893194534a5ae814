"""The Celery application, built from settings; ``celery --app workers.app`` loads ``app``."""

from __future__ import annotations

from celery import Celery

from streamcore.settings import Settings, load_settings


def create_celery(settings: Settings) -> Celery:
    app = Celery("streamcore", broker=settings.redis_dsn, backend=settings.redis_dsn)
    app.conf.update(
        # A task is acknowledged only when it finishes: a worker killed mid-task hands it back.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        # One task at a time per process: transcodes are long and CPU-bound.
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_expires=3600,
        broker_connection_retry_on_startup=True,
        # Redis redelivers unacknowledged tasks after this long; above the longest task.
        broker_transport_options={"visibility_timeout": 4 * 3600},
        worker_hijack_root_logger=False,
        timezone="UTC",
    )
    return app


def _default_app() -> Celery:
    # The worker process loads its settings once, when Celery imports this module.
    from streamcore.log import configure_logging

    settings = load_settings()
    configure_logging(settings)
    return create_celery(settings)


def __getattr__(name: str) -> Celery:
    # Built lazily so that importing workers.app (tests, the CLI) does not load settings.
    if name == "app":
        app = _default_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
