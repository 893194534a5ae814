"""The kernel's authentication and permission-table middlewares, on a real aiohttp server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from streamcore.auth.jwks import RemoteKeys
from streamcore.auth.keys import jwks
from streamcore.auth.middleware import (
    VERIFIED_KEY,
    authentication,
    authorization,
    local_keys,
    unlisted_routes,
)
from streamcore.auth.principal import Principal, principal
from streamcore.auth.roles import Permission, Role
from streamcore.auth.tokens import mint
from streamcore.secrets import new_signing_key_pem
from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY, json_errors

TABLE = {
    "GET /public": Permission.PUBLIC,
    "GET /watch": Permission.PLAY,
    "POST /accounts": Permission.MANAGE_ACCOUNTS,
}


async def _whoami(request: web.Request) -> web.Response:
    caller = principal(request)
    return web.json_response({"actor": caller.actor, "role": caller.role})


def _app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[json_errors, authentication, authorization(TABLE)])
    app[SETTINGS_KEY] = settings
    local_keys(app)
    app.router.add_get("/public", _whoami)
    app.router.add_get("/watch", _whoami)
    app.router.add_post("/accounts", _whoami)
    app.router.add_get("/unlisted", _whoami)
    return app


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(_app(settings))) as test_client:
        yield test_client


def _token(settings: Settings, role: Role) -> str:
    token, _ = mint(
        settings.auth, account_id=uuid.uuid4(), session_id=uuid.uuid4(), role=role,
        profile_id=None, maturity=None,
    )  # fmt: skip
    return token


def _bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def _error(response: aiohttp.ClientResponse) -> tuple[int, str]:
    return response.status, (await response.json())["error"]["code"]


async def test_anonymous_callers_reach_public_routes_only(client: TestClient) -> None:
    assert (await (await client.get("/public")).json())["actor"] == "anonymous"
    response = await client.get("/watch")  # the unit settings allow no anonymous playback
    assert await _error(response) == (401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_roles_are_checked_against_the_table(client: TestClient, settings: Settings) -> None:
    viewer, admin = _token(settings, Role.VIEWER), _token(settings, Role.ADMIN)
    assert (await client.get("/watch", headers=_bearer(viewer))).status == 200
    assert await _error(await client.post("/accounts", headers=_bearer(viewer))) == (
        403, "forbidden",
    )  # fmt: skip
    body = await (await client.post("/accounts", headers=_bearer(admin))).json()
    assert body["role"] == "admin" and body["actor"].startswith("account:")


async def test_a_route_missing_from_the_table_is_closed(
    client: TestClient, settings: Settings
) -> None:
    admin = _token(settings, Role.ADMIN)
    assert await _error(await client.get("/unlisted", headers=_bearer(admin))) == (
        403, "forbidden",
    )  # fmt: skip
    assert unlisted_routes(_app(settings), TABLE) == ["GET /unlisted"]


async def test_service_accounts_and_bad_bearers(client: TestClient) -> None:
    body = await (await client.post("/accounts", headers=_bearer("key"))).json()
    assert body == {"actor": "service:ci", "role": "admin"}
    assert await _error(await client.get("/public", headers=_bearer("nope"))) == (
        401, "invalid_token",
    )  # fmt: skip
    # A bad token is refused even where no token is needed: it was presented, so it is wrong.
    assert await _error(await client.get("/public", headers=_bearer("a.b.c"))) == (
        401, "invalid_token",
    )  # fmt: skip
    response = await client.get("/public", headers={"Authorization": "Basic eDp5"})
    assert response.status == 401


async def test_a_verified_token_is_remembered_until_it_expires(
    client: TestClient, settings: Settings
) -> None:
    token = _token(settings, Role.VIEWER)
    verified = client.app[VERIFIED_KEY]
    for _ in range(3):
        assert (await client.get("/watch", headers=_bearer(token))).status == 200
    assert len(verified) == 1
    expired, _ = mint(
        settings.auth, account_id=uuid.uuid4(), session_id=uuid.uuid4(), role=Role.VIEWER,
        profile_id=None, maturity=None, now=time.time() - 3600,
    )  # fmt: skip
    # Planted as if it had been verified while it was valid: past its expiry it is not used.
    verified.put(expired, Principal(role=Role.VIEWER), time.time() - 3600)
    assert await _error(await client.get("/watch", headers=_bearer(expired))) == (
        401, "token_expired",
    )  # fmt: skip


async def test_remote_keys_refetch_once_for_a_rotated_in_key(settings: Settings) -> None:
    """Another service's verifier: the JWKS is fetched from a real server, cached, and
    fetched again when a token names a kid it has not seen, at most once per interval."""
    current = {"keys": dict(settings.auth.signing_keys)}
    fetches = 0

    async def serve_jwks(request: web.Request) -> web.Response:
        nonlocal fetches
        fetches += 1
        return web.json_response(jwks(current["keys"]))

    jwks_app = web.Application()
    jwks_app.router.add_get("/.well-known/jwks.json", serve_jwks)
    async with TestServer(jwks_app) as server:
        url = str(server.make_url("/.well-known/jwks.json"))
        remote = settings.model_copy(
            update={"auth": settings.auth.model_copy(
                update={"jwks_url": url, "jwks_min_refetch_s": 0.2}
            )}
        )  # fmt: skip
        async with aiohttp.ClientSession() as session:
            keys = RemoteKeys(remote, session)
            assert set(await keys.keys()) == {"a1"}
            await keys.keys()
            assert fetches == 1
            current["keys"]["a2"] = SecretStr(new_signing_key_pem())
            assert set(await keys.keys(refresh=True)) == {"a1"}  # too soon after the fetch
            await asyncio.sleep(0.25)
            results = await asyncio.gather(*(keys.keys(refresh=True) for _ in range(10)))
            assert all(set(r) == {"a1", "a2"} for r in results)
            assert fetches == 2  # ten callers, one fetch
