"""``python -m notifications [--instance N]``: one notifications instance
(streamcore/web/instance.py)."""

from __future__ import annotations

from notifications.app import create_app
from streamcore.web import instance


def main() -> None:
    instance.run("notifications", create_app)


if __name__ == "__main__":
    main()
