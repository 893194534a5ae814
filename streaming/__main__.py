"""``python -m streaming [--instance N]``: one streaming instance (streamcore/web/instance.py)."""

from __future__ import annotations

from streamcore.web import instance
from streaming.app import create_app


def main() -> None:
    instance.run("streaming", create_app)


if __name__ == "__main__":
    main()
