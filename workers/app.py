"""The worker's Celery application; ``celery --app workers.app worker`` loads ``app``.

The settings and the ladder (``worker.ladder_path``) are loaded and validated once, when the
worker starts, before it connects to anything: a bad value stops it with a message naming the
key (``worker.ladder_path: ...: rungs.0: maxrate_kbps (...) must be at least ...``) instead
of failing every task. Pool processes are forked from this one and inherit both.
"""

from __future__ import annotations

from celery import Celery

from streamcore.log import configure_logging
from streamcore.settings import SettingsError, load_settings
from streamcore.tasks.queue import create_celery, lazy_app
from transcoder.ladder import LadderError
from workers.processing import worker_ladder


def _create() -> Celery:
    try:
        settings = load_settings()
        ladder = worker_ladder(settings)
    except (SettingsError, LadderError) as exc:
        # The message alone (no traceback): it already says which key is wrong and why.
        raise SystemExit(f"the worker cannot start: {exc}") from None
    configure_logging(settings)
    app = create_celery(settings)
    from workers.tasks import register

    register(app, settings, ladder)
    return app


__getattr__ = lazy_app(globals(), _create)
