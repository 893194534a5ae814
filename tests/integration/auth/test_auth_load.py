"""20 sign-ins at once all complete, and a cheap request meanwhile is not held up behind
their password hashes (bench/auth.py measures the event loop's lag)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from streamcore.settings import Settings
from tests.integration.auth.auth_http import PASSWORD, new_email, random_ip

pytestmark = pytest.mark.stack


async def test_twenty_concurrent_logins_complete_and_other_requests_go_on(
    stack: Settings,
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway.entry_url, timeout=60) as client:
        email = new_email("crowd")
        signed = await client.post(
            "/v1/auth/signup", json={"email": email, "password": PASSWORD, "display_name": "Crowd"}
        )
        assert signed.status_code == 201

        async def one(i: int) -> httpx.Response:
            return await client.post(
                "/v1/auth/login",
                json={"email": email, "password": PASSWORD, "device_name": f"device {i}"},
                headers={"X-Forwarded-For": random_ip()},
            )

        logins = [asyncio.create_task(one(i)) for i in range(20)]
        await asyncio.sleep(0.05)  # the hashes are under way
        jwks = await client.get("/.well-known/jwks.json")
        assert jwks.status_code == 200
        done_early = sum(task.done() for task in logins)
        answers = await asyncio.gather(*logins)
        assert [a.status_code for a in answers] == [200] * 20
        assert len({a.json()["device_id"] for a in answers}) == 20
        print(f"logins finished before the JWKS answered: {done_early} of 20")
