"""Local secrets generated on first start, kept under the stack's data folder.

Only for dev and test stacks (``stack.generate_secrets``): production takes every secret from
its environment. The file is readable by its owner only.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

FILE_NAME = "secrets.yaml"


def _generate() -> dict[str, Any]:
    return {
        "postgres": {"password": secrets.token_urlsafe(24)},
        "redis": {"password": secrets.token_urlsafe(24)},
        "s3": {
            "access_key_id": "SC" + secrets.token_hex(9).upper(),
            "secret_access_key": secrets.token_urlsafe(30),
        },
        "auth": {
            "signing_keys": {"a1": new_signing_key_pem()},
            "active_key_id": "a1",
            "service_accounts": {"ci": {"key": secrets.token_urlsafe(32), "role": "admin"}},
        },
        "origin": {"signing_keys": {"k1": secrets.token_urlsafe(32)}, "active_key_id": "k1"},
        "subscriptions": {"local_webhook_secret": secrets.token_urlsafe(32)},
    }


def new_signing_key_pem() -> str:
    """A new Ed25519 private key for access tokens, as PKCS#8 PEM."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _upgraded(values: dict[str, Any]) -> dict[str, Any]:
    """A file written by an earlier version, brought up to date: the catalog's shared API keys
    became admin service accounts, and secrets added since are generated."""
    values = dict(values)
    old_keys = (values.get("catalog_api") or {}).pop("api_keys", None)
    if old_keys and not (values.get("auth") or {}).get("service_accounts"):
        accounts = {f"ci-{i}": {"key": key, "role": "admin"} for i, key in enumerate(old_keys, 1)}
        values["auth"] = {**(values.get("auth") or {}), "service_accounts": accounts}
    if values.get("catalog_api") == {}:
        del values["catalog_api"]
    # Whole sections, or whole keys within one, are added; never entries inside a key (a
    # key set of signing keys is one secret: adding a generated key to it would widen it).
    for section, generated in _generate().items():
        present = dict(values.get(section) or {})
        values[section] = {**generated, **present}
    return values


def load_or_create(data_dir: Path) -> dict[str, Any]:
    """Return the data folder's secrets, generating and saving them the first time (and
    adding those a newer version needs to an older file)."""
    path = data_dir / FILE_NAME
    if path.is_file():
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            if _upgraded(loaded) == loaded:
                return loaded
            return _upgrade_in_place(path)
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


def _upgrade_in_place(path: Path) -> dict[str, Any]:
    # Under a lock, read again: of two processes upgrading at once, the second must take the
    # first one's generated secrets rather than write its own.
    with path.with_name(f".{FILE_NAME}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        values = _upgraded(yaml.safe_load(path.read_text(encoding="utf-8")))
        tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.upgrade")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(values, handle, sort_keys=True)
        tmp.replace(path)
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
