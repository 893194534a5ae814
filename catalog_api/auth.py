"""API-key authentication for write endpoints, in this one middleware.

Full accounts come later; until then `catalog_api.api_keys` lists the keys allowed to write.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TypeVar

from aiohttp import web

from streamcore.web.service import SETTINGS_KEY, Handler, Unauthorized

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
H = TypeVar("H", bound=Handler)


def public(handler: H) -> H:
    """Mark a write endpoint that viewers call without an API key (the moved progress PUT)."""
    handler.public = True  # type: ignore[attr-defined]
    return handler


def _valid(presented: str, keys: tuple[bytes, ...]) -> bool:
    candidate = presented.encode()
    # Compare against every key, without stopping early, each in constant time.
    matches = [hmac.compare_digest(candidate, key) for key in keys]
    return any(matches)


@web.middleware
async def require_api_key(request: web.Request, handler: Handler) -> web.StreamResponse:
    route_handler = request.match_info.handler
    if (
        request.method in _READ_METHODS
        or not request.path.startswith("/v1/")
        or getattr(route_handler, "public", False)
    ):
        return await handler(request)
    keys = tuple(
        account.key.get_secret_value().encode()
        for account in request.app[SETTINGS_KEY].auth.service_accounts.values()
    )
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="streamcore"'}
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "this endpoint needs an API key: Authorization: Bearer <key>", headers=challenge
        )
    if not _valid(token.strip(), keys):
        raise Unauthorized("the API key is not valid", headers=challenge)
    return await handler(request)


def actor(request: web.Request) -> str | None:
    """A stable, opaque name for the caller, or None for an anonymous one.

    Used to route the caller's reads after its own writes (read-your-writes): only key holders
    write to the catalog (viewers write to the streaming service), so anyone else is anonymous.
    Not a proof of identity: an API key is only checked, by `require_api_key`, on the requests
    that need one. The key itself never leaves this function, only a prefix of its SHA-256.
    """
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "key:" + hashlib.sha256(token.strip().encode()).hexdigest()[:16]
    return None
