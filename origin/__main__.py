"""``python -m origin [--instance N]``: serve one origin instance (streamcore/web/instance.py)."""

from __future__ import annotations

from origin.app import create_app
from streamcore.web import instance


def main() -> None:
    instance.run("origin", create_app)


if __name__ == "__main__":
    main()
