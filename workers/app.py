"""The worker's Celery application; ``celery --app workers.app worker`` loads ``app``."""

from __future__ import annotations

from celery import Celery

from streamcore.log import configure_logging
from streamcore.settings import load_settings
from streamcore.tasks.queue import create_celery


def _create() -> Celery:
    settings = load_settings()
    configure_logging(settings)
    app = create_celery(settings)
    from workers.tasks import register

    register(app, settings)
    return app


def __getattr__(name: str) -> Celery:
    # Built on first use so that importing this module (tests, tools) loads no settings.
    if name == "app":
        app = _create()
        globals()["app"] = app
        return app
    raise AttributeError(name)
