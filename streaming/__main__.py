"""``python -m streaming``: serve the streaming service with the settings of this environment.

Until the instance runner (streamcore/web/instance.py) is on main, this serves one process on
``streaming.port``, as catalog_api/__main__.py did; then it becomes
``instance.run("streaming", create_app)``.
"""

from __future__ import annotations

from aiohttp import web

from streamcore.log import configure_logging
from streamcore.settings import load_settings
from streaming.app import create_app


def main() -> None:
    settings = load_settings()
    configure_logging(settings)
    web.run_app(
        create_app(settings),
        host=settings.streaming.host,
        port=settings.streaming.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
