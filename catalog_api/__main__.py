"""``python -m catalog_api [--instance N]``: one catalog instance (streamcore/web/instance.py)."""

from __future__ import annotations

from catalog_api.app import create_app
from streamcore.web import instance


def main() -> None:
    instance.run("catalog", create_app)


if __name__ == "__main__":
    main()
