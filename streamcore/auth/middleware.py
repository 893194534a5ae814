"""The one place requests are authenticated and authorised, shared by every service.

`authentication` turns the ``Authorization: Bearer`` header into a `Principal`: a JWT access
token is verified locally against the auth service's public keys (never by calling it), any
other bearer is compared, in constant time, with every service account's key. No header is
an anonymous caller; a header that does not verify is 401, whatever the route.

`authorization` then looks the route up in the service's permission table
(``"METHOD /canonical/path" -> Permission``) and answers 401 (anonymous) or 403 (signed in)
when the caller's role lacks it. A route missing from the table is refused: a new endpoint is
closed until someone declares who may call it.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Mapping

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Middleware

from streamcore.auth.jwks import KeySource, KeysUnavailable, LocalKeys, RemoteKeys
from streamcore.auth.principal import ANONYMOUS, PRINCIPAL_KEY, Principal, principal
from streamcore.auth.roles import Permission, grants
from streamcore.auth.tokens import InvalidToken, UnknownKey, verify
from streamcore.auth.verified import VerifiedTokens
from streamcore.settings import Settings
from streamcore.web.service import (
    SETTINGS_KEY,
    ApiError,
    Forbidden,
    Handler,
    ServiceUnavailable,
    Unauthorized,
)

KEYS_KEY = web.AppKey("token_keys", KeySource)
VERIFIED_KEY = web.AppKey("verified_tokens", VerifiedTokens)
_CHALLENGE = 'Bearer realm="streamcore"'


class InvalidBearer(ApiError):
    status = 401

    def __init__(self, error: InvalidToken) -> None:
        super().__init__(
            str(error),
            headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'},
        )
        self.code = error.code


def _service_account(settings: Settings, presented: str) -> Principal | None:
    candidate = presented.encode()
    found: Principal | None = None
    # Every key is compared, without stopping early, each in constant time.
    for name, account in settings.auth.service_accounts.items():
        if hmac.compare_digest(candidate, account.key.get_secret_value().encode()):
            found = Principal(role=account.role, service=name)
    return found


async def _verified(
    keys: KeySource, token: str, settings: Settings, verified: VerifiedTokens
) -> Principal:
    known = verified.get(token)
    if known is not None:
        return known
    try:
        try:
            claims = verify(token, await keys.keys(), settings.auth)
        except UnknownKey:
            # Perhaps a key rotated in since the JWKS was fetched: fetch it again, once.
            claims = verify(token, await keys.keys(refresh=True), settings.auth)
    except KeysUnavailable:
        raise ServiceUnavailable(
            "tokens cannot be checked right now", headers={"Retry-After": "5"}
        ) from None
    except InvalidToken as exc:
        raise InvalidBearer(exc) from None
    caller = Principal.of_claims(claims)
    verified.put(token, caller, claims.expires_at)
    return caller


async def authenticate(request: web.Request) -> Principal:
    """The caller named by the request's Authorization header (anonymous without one)."""
    header = request.headers.get("Authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials:
        raise Unauthorized(
            "send a token as Authorization: Bearer <token>",
            headers={"WWW-Authenticate": _CHALLENGE},
        )
    return await authenticate_credentials(request, credentials)


async def authenticate_credentials(request: web.Request, credentials: str) -> Principal:
    """The caller a bearer credential names, wherever it came from: the Authorization header
    here, or a form-encoded ``access_token`` body parameter (RFC 6750 §2.2) for clients that
    cannot set headers (the analytics collector's beacons). 401 when it does not verify."""
    settings = request.app[SETTINGS_KEY]
    if credentials.count(".") == 2:
        return await _verified(
            request.app[KEYS_KEY], credentials, settings, request.app[VERIFIED_KEY]
        )
    account = _service_account(settings, credentials)
    if account is None:
        raise InvalidBearer(InvalidToken("the key is not valid"))
    return account


@web.middleware
async def authentication(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[PRINCIPAL_KEY] = await authenticate(request)
    return await handler(request)


def route_key(request: web.Request) -> str | None:
    """``"METHOD /canonical/path"`` of the matched route (None when nothing matched)."""
    match = request.match_info
    if match.http_exception is not None or match.route.resource is None:
        return None
    method = "GET" if request.method == "HEAD" else request.method
    return f"{method} {match.route.resource.canonical}"


def authorization(permissions: Mapping[str, Permission]) -> Middleware:
    """The middleware that enforces `permissions`, one service's route table."""

    @web.middleware
    async def authorize(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = route_key(request)
        if key is None or request.method == "OPTIONS":
            return await handler(request)  # 404/405 and CORS preflights say nothing
        needed = permissions.get(key)
        if needed is None:
            raise Forbidden(f"no permission is declared for {key}")
        caller = principal(request)
        anonymous_playback = request.app[SETTINGS_KEY].auth.allow_anonymous_playback
        if not grants(caller.role, needed, anonymous_playback=anonymous_playback):
            if caller.anonymous:
                raise Unauthorized(
                    "sign in first: this needs Authorization: Bearer <access token>",
                    headers={"WWW-Authenticate": _CHALLENGE},
                )
            raise Forbidden(f"the role {caller.role} may not {needed.value.replace('_', ' ')}")
        return await handler(request)

    return authorize


def unlisted_routes(app: web.Application, permissions: Mapping[str, Permission]) -> list[str]:
    """Routes of `app` the table forgets (a test asserts there are none)."""
    keys = []
    for route in app.router.routes():
        if route.method in {"HEAD", "OPTIONS", "*"} or route.resource is None:
            continue
        key = f"{route.method} {route.resource.canonical}"
        if key not in permissions:
            keys.append(key)
    return keys


async def remote_keys(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the JWKS client of a service other than the auth service."""
    async with aiohttp.ClientSession() as session:
        app[KEYS_KEY] = RemoteKeys(app[SETTINGS_KEY], session)
        app[VERIFIED_KEY] = VerifiedTokens(app[SETTINGS_KEY].auth.leeway_s)
        yield


def local_keys(app: web.Application) -> None:
    """The auth service verifies with its own keys."""
    app[KEYS_KEY] = LocalKeys(app[SETTINGS_KEY])
    app[VERIFIED_KEY] = VerifiedTokens(app[SETTINGS_KEY].auth.leeway_s)
