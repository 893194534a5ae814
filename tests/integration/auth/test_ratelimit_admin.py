"""The rate limits' admin API, on the auth service built in this process from its factory
(against the stack's Redis and database): who may call it, the status, bans made by a real
monitor listed and lifted (audited), a range not banned and one that is not a range."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from auth.app import create_app
from auth.ratelimit_models import BanList, RateLimitStatus
from streamcore.auth.audit import STREAM, AuditEvent, decode
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.auth.auth_http import signed_in
from tests.integration.ratelimit.bans_helpers import ban_by_attack, random_address

pytestmark = pytest.mark.stack

STATUS, BANS = "/v1/admin/ratelimit", "/v1/admin/ratelimit/bans"


async def _audit_events(stack: Settings) -> list[AuditEvent]:
    """The latest events published to the audit stream."""
    redis = create_redis(stack)
    try:
        entries = await redis.xrevrange(STREAM, count=200)
    finally:
        await redis.aclose()
    return [decode(fields) for _, fields in entries]


@pytest.fixture
async def service(stack: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(stack))) as client:
        yield client


async def test_only_admins_may(service: TestClient, http: httpx.Client) -> None:
    viewer = signed_in(http)
    for method, path in (("GET", STATUS), ("GET", BANS), ("DELETE", f"{BANS}/203.0.113.0/24")):
        anonymous = await service.request(method, path)
        assert anonymous.status == 401, (method, path)
        refused = await service.request(method, path, headers=viewer.headers)
        assert refused.status == 403, (method, path)
        assert (await refused.json())["error"]["code"] == "forbidden"


async def test_the_status_says_what_is_in_force(
    service: TestClient, stack: Settings, admin: dict[str, str]
) -> None:
    range_ = await ban_by_attack(stack, random_address())
    response = await service.get(STATUS, headers=admin)
    assert response.status == 200 and response.headers["Cache-Control"] == "private, no-store"
    body = await response.json()
    RateLimitStatus.model_validate(body)
    assert body["enabled"] is stack.ratelimit.enabled and body["active_bans"] >= 1
    assert body["abuse"]["window_s"] == stack.ratelimit.abuse.window_s
    assert {"class": "read", "tier": "anonymous"}.items() <= body["budgets"][0].items()
    assert body["recent_trips"][0]["range"] == range_
    assert body["recent_trips"][0]["reason"] == "failed_logins"


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
async def test_bans_are_listed_and_lifted(
    service: TestClient, stack: Settings, admin: dict[str, str], v6: bool
) -> None:
    address = random_address(v6)
    range_ = await ban_by_attack(stack, address)
    listed = await service.get(BANS, headers=admin)
    assert listed.status == 200
    items = BanList.model_validate(await listed.json()).items
    (ban,) = [b for b in items if b.range == range_]
    assert (ban.reason, ban.factor, ban.offences) == ("failed_logins", 0.1, 1)

    lifted = await service.delete(f"{BANS}/{range_}", headers=admin)
    assert lifted.status == 204, await lifted.text()
    again = await service.delete(f"{BANS}/{range_}", headers=admin)
    assert again.status == 404 and (await again.json())["error"]["code"] == "not_banned"
    after = await (await service.get(BANS, headers=admin)).json()
    assert range_ not in [b["range"] for b in after["items"]]
    # An address names its range; forget=true clears the offences too.
    await ban_by_attack(stack, address)
    by_address = await service.delete(f"{BANS}/{address}?forget=true", headers=admin)
    assert by_address.status == 204

    # Recorded: in the audit stream (its consumer's appending is tested in test_auth_admin.py).
    events = [e for e in await _audit_events(stack) if e.kind == "ratelimit_unban"
              and e.detail["range"] == range_]  # fmt: skip
    key = stack.auth.service_key()
    name = next(n for n, a in stack.auth.service_accounts.items() if a.key == key)
    assert {e.actor for e in events} == {f"service:{name}"}
    assert sorted(bool(e.detail["forget"]) for e in events) == [False, True]


@pytest.mark.parametrize("text", ["not-a-range", "203.0.113.0/33", "300.1.2.0/24", "::g/56"])
async def test_what_is_not_a_range_is_a_400(
    service: TestClient, admin: dict[str, str], text: str
) -> None:
    response = await service.delete(f"{BANS}/{text}", headers=admin)
    assert response.status == 400
    error = (await response.json())["error"]
    assert error["code"] == "invalid_range" and text in error["message"]


def test_the_gateway_routes_them_to_auth(http: httpx.Client, admin: dict[str, str]) -> None:
    assert http.get(STATUS, headers=admin).status_code == 200
    assert http.get(BANS, headers=admin).status_code == 200
    missing = http.delete(f"{BANS}/2001:db8:ffff:ff00::/56", headers=admin)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_banned"
