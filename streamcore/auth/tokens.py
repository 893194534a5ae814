"""Access tokens: short-lived JWTs signed with Ed25519, minted by the auth service and checked
by every service from the public keys alone (PyJWT does the JOSE work).

Claims: ``iss``, ``aud``, ``sub`` (account), ``pid`` (profile), ``sid`` (device session),
``role``, ``mat`` (the profile's maturity level), ``iat``, ``nbf``, ``exp``, ``jti``; the
header names the key (``kid``). What an account may play is not in the token: it follows its
subscription, which changes within a token's lifetime (streamcore/entitlements.py). Only
``EdDSA`` is accepted, so ``alg: none`` and HS256 signed with the public key (key confusion)
fail like any forgery.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from streamcore.auth.keys import ALGORITHM, private_key
from streamcore.auth.roles import Role
from streamcore.settings import AuthSettings

_REQUIRED = ["iss", "aud", "sub", "sid", "role", "iat", "exp", "jti"]


class InvalidToken(Exception):
    """The bearer token opens nothing; `code` is stable (JSON errors, metrics, audit)."""

    code = "invalid_token"


class ExpiredToken(InvalidToken):
    code = "token_expired"


class UnknownKey(InvalidToken):
    """Signed by a key this service does not know (yet): it refetches the JWKS once."""

    code = "unknown_key"


@dataclass(frozen=True)
class AccessClaims:
    account_id: UUID
    session_id: UUID
    role: Role
    profile_id: UUID | None
    maturity: str | None
    issued_at: int
    expires_at: int
    token_id: str


def mint(
    settings: AuthSettings,
    *,
    account_id: UUID,
    session_id: UUID,
    role: Role,
    profile_id: UUID | None,
    maturity: str | None,
    now: float | None = None,
) -> tuple[str, AccessClaims]:
    """A new access token signed with the active key, and what it says."""
    if settings.active_key_id is None:
        raise RuntimeError("auth.active_key_id is not set: this process cannot sign tokens")
    issued = int(now if now is not None else time.time())
    claims = AccessClaims(
        account_id=account_id, session_id=session_id, role=role, profile_id=profile_id,
        maturity=maturity, issued_at=issued,
        expires_at=issued + settings.access_ttl_s, token_id=uuid.uuid4().hex,
    )  # fmt: skip
    payload: dict[str, object] = {
        "iss": settings.issuer, "aud": settings.audience, "sub": str(account_id),
        "sid": str(session_id), "role": str(role), "iat": issued, "nbf": issued,
        "exp": claims.expires_at, "jti": claims.token_id,
    }  # fmt: skip
    if profile_id is not None:
        payload["pid"] = str(profile_id)
    if maturity is not None:
        payload["mat"] = maturity
    key = private_key(settings.signing_keys[settings.active_key_id])
    token = jwt.encode(payload, key, algorithm=ALGORITHM, headers={"kid": settings.active_key_id})
    return token, claims


def key_id(token: str) -> str:
    """The token's ``kid``, before anything is verified (to pick the key to verify it with)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidToken("the token is not a well-formed JWT") from None
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM:
        raise InvalidToken(f"tokens are signed with {ALGORITHM}, not {header.get('alg')!r}")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("the token names no key (kid)")
    return kid


def verify(
    token: str, keys: Mapping[str, Ed25519PublicKey], settings: AuthSettings
) -> AccessClaims:
    """What a valid token says; InvalidToken (or a subclass) for anything else."""
    kid = key_id(token)
    key = keys.get(kid)
    if key is None:
        raise UnknownKey(f"the token is signed by an unknown key {kid!r}")
    try:
        payload = jwt.decode(
            token, key, algorithms=[ALGORITHM], audience=settings.audience,
            issuer=settings.issuer, leeway=settings.leeway_s,
            options={"require": _REQUIRED},
        )  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise ExpiredToken("the access token has expired; refresh it") from None
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"the access token is not valid: {exc}") from None
    try:
        return AccessClaims(
            account_id=UUID(payload["sub"]), session_id=UUID(payload["sid"]),
            role=Role(payload["role"]),
            profile_id=UUID(payload["pid"]) if payload.get("pid") else None,
            maturity=payload.get("mat"),
            issued_at=int(payload["iat"]), expires_at=int(payload["exp"]),
            token_id=str(payload["jti"]),
        )  # fmt: skip
    except (ValueError, TypeError):
        raise InvalidToken("the access token's claims are malformed") from None
