"""Sign-in and sign-up spend two tight budgets, one per client address and one per account:
the auth service built here by its factory, on the stack's database and Redis."""

from __future__ import annotations

import secrets

from aiohttp.test_utils import TestClient, TestServer

from auth.app import create_app as create_auth
from streamcore.ratelimit.config import RateRule
from streamcore.settings import Settings
from tests.integration.ratelimit.limits import client_v6, forwarded, limited


def _email() -> str:
    return f"rl-{secrets.token_hex(6)}@example.com"


async def _login(auth: TestClient, email: str, ip: str) -> int:
    body = {"email": email, "password": "wrong password"}
    async with auth.post("/v1/auth/login", json=body, headers=forwarded(ip)) as response:
        return response.status


async def test_per_account_budget_holds_whatever_the_address(stack: Settings) -> None:
    settings = limited(stack, login_per_ip=RateRule(limit=100), login_per_account=RateRule(limit=3))
    async with TestClient(TestServer(create_auth(settings))) as auth:
        email = _email()
        # Each attempt from another address: the account's own budget still runs out.
        statuses = [await _login(auth, email, client_v6()) for _ in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        refused = await auth.post(
            "/v1/auth/login", json={"email": email.upper(), "password": "x" * 8},
            headers=forwarded(client_v6()),
        )  # fmt: skip
        assert refused.status == 429  # the address is normalised before it is counted
        assert (await refused.json())["error"]["code"] == "rate_limited"
        assert await _login(auth, _email(), client_v6()) == 401  # another account's is its own


async def test_per_address_budget_covers_sign_in_and_sign_up(stack: Settings) -> None:
    settings = limited(stack, login_per_ip=RateRule(limit=4), login_per_account=RateRule(limit=100))
    async with TestClient(TestServer(create_auth(settings))) as auth:
        ip = client_v6()
        statuses = [await _login(auth, _email(), ip) for _ in range(3)]
        signup = await auth.post(
            "/v1/auth/signup",
            json={"email": _email(), "password": "correct horse battery", "display_name": "R"},
            headers=forwarded(ip),
        )
        statuses.append(signup.status)
        statuses.append(await _login(auth, _email(), ip))
        assert statuses == [401, 401, 401, 201, 429]
        policy = signup.headers["RateLimit-Policy"]
        assert policy == '"login";q=4;w=60'
        # Other reads and writes of that address are not sign-ins: their budgets are apart.
        assert (await auth.get("/.well-known/jwks.json", headers=forwarded(ip))).status == 200
