"""``python -m auth [--instance N]``: one auth instance (streamcore/web/instance.py)."""

from __future__ import annotations

from auth.app import create_app
from streamcore.web import instance


def main() -> None:
    instance.run("auth", create_app)


if __name__ == "__main__":
    main()
