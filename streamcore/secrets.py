"""Local secrets generated on first start, kept under the stack's data folder.

Only for dev and test stacks (``stack.generate_secrets``): production takes every secret from
its environment. The file is readable by its owner only.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import yaml

FILE_NAME = "secrets.yaml"


def _generate() -> dict[str, Any]:
    return {
        "postgres": {"password": secrets.token_urlsafe(24)},
        "redis": {"password": secrets.token_urlsafe(24)},
        "s3": {
            "access_key_id": "SC" + secrets.token_hex(9).upper(),
            "secret_access_key": secrets.token_urlsafe(30),
        },
        "catalog_api": {"api_keys": [secrets.token_urlsafe(32)]},
        "origin": {"signing_keys": {"k1": secrets.token_urlsafe(32)}, "active_key_id": "k1"},
    }


def load_or_create(data_dir: Path) -> dict[str, Any]:
    """Return the data folder's secrets, generating and saving them the first time."""
    path = data_dir / FILE_NAME
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            return loaded
    data_dir.mkdir(parents=True, exist_ok=True)
    values = _generate()
    # Written aside then hard-linked into place: creation is atomic, and when two processes
    # start at once the loser reads the winner's file instead of overwriting it.
    tmp = data_dir / f".{FILE_NAME}.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump(values, handle, sort_keys=True)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return load_or_create(data_dir)
    finally:
        tmp.unlink()
    return values


def merge_under(values: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Return ``values`` with any key it lacks (at any depth) taken from ``defaults``."""
    merged = dict(defaults)
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_under(value, merged[key])
        else:
            merged[key] = value
    return merged
