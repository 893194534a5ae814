"""``python -m origin``: serve the origin with the settings of this environment."""

from __future__ import annotations

from aiohttp import web

from origin.app import create_app
from streamcore.log import configure_logging
from streamcore.settings import load_settings


def main() -> None:
    settings = load_settings()
    configure_logging(settings)
    web.run_app(
        create_app(settings),
        host=settings.origin.host,
        port=settings.origin.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
