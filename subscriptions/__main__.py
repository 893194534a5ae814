"""``python -m subscriptions [--instance N]``: one subscriptions instance
(streamcore/web/instance.py)."""

from __future__ import annotations

from streamcore.web import instance
from subscriptions.app import create_app


def main() -> None:
    instance.run("subscriptions", create_app)


if __name__ == "__main__":
    main()
