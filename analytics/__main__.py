"""``python -m analytics [--instance N]``: one analytics instance (streamcore/web/instance.py)."""

from __future__ import annotations

from analytics.app import create_app
from streamcore.web import instance


def main() -> None:
    instance.run("analytics", create_app)


if __name__ == "__main__":
    main()
