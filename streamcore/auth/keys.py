"""Ed25519 keys for access tokens: loaded from the settings, published as a JWKS (RFC 8037)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import SecretStr

ALGORITHM = "EdDSA"


class KeyError_(ValueError):
    """A configured key is not an Ed25519 private key."""


@lru_cache(maxsize=32)
def _private_key(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_("auth.signing_keys: every key must be an Ed25519 private key (PKCS#8 PEM)")
    return key


def private_key(pem: SecretStr) -> Ed25519PrivateKey:
    return _private_key(pem.get_secret_value())


def public_keys(signing_keys: Mapping[str, SecretStr]) -> dict[str, Ed25519PublicKey]:
    return {kid: private_key(pem).public_key() for kid, pem in signing_keys.items()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw), "kid": kid,
            "alg": ALGORITHM, "use": "sig"}  # fmt: skip


def jwks(signing_keys: Mapping[str, SecretStr]) -> dict[str, list[dict[str, str]]]:
    """The public half of every configured key: the document at /.well-known/jwks.json."""
    return {"keys": [jwk(kid, key) for kid, key in sorted(public_keys(signing_keys).items())]}


def from_jwks(document: object) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS by kid; any other kind of key is left out."""
    keys: dict[str, Ed25519PublicKey] = {}
    entries = document.get("keys") if isinstance(document, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        kind = (entry.get("kty"), entry.get("crv"), entry.get("use", "sig"))
        if kind != ("OKP", "Ed25519", "sig"):
            continue
        kid, x = entry.get("kid"), entry.get("x")
        if not isinstance(kid, str) or not isinstance(x, str):
            continue
        try:
            raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
            keys[kid] = Ed25519PublicKey.from_public_bytes(raw)
        except ValueError:
            continue
    return keys
