"""Media is budgeted per stream slot (its playback token), never per viewer: the origin built
here by its factory, serving files published in the stack's real bucket, beside the
streaming service's API for the same account (its budget is the account's)."""

from __future__ import annotations

import asyncio
import secrets

from aiohttp.test_utils import TestClient, TestServer

from origin.app import create_app as create_origin
from streamcore import signing
from streamcore.ratelimit.config import RateRule
from streamcore.settings import Settings
from tests.integration.published import Published
from tests.integration.ratelimit.limits import budget, client_v6, forwarded, limited
from tests.integration.ratelimit.test_guard import READ, streaming
from tests.streaming_http import Device

FILES = ("master.m3u8", "video/360p/index.m3u8", "video/360p/init.mp4",
         "audio/aac/init.mp4", "audio/aac/seg_00001.m4s")  # fmt: skip


def _token(stack: Settings, scope: str) -> str:
    key_id = stack.origin.active_key_id
    assert key_id is not None
    grant = secrets.token_urlsafe(9)  # as cdn_adapters/playback.py grants each playback
    return signing.sign(stack.origin.signing_keys, key_id, scope, ttl_s=600, grant_id=grant)


async def _stream(origin: TestClient, token: str, folder: str, n: int, ip: str) -> list[int]:
    """`n` requests of one stream: its playlists and segments, round and round."""
    statuses = []
    for i in range(n):
        path = f"/t/{token}{folder}{FILES[i % len(FILES)]}"
        async with origin.get(path, headers=forwarded(ip)) as response:
            await response.read()
            statuses.append(response.status)
    return statuses


async def test_four_streams_play_while_the_accounts_api_calls_are_limited(
    stack: Settings, published: Published
) -> None:
    # Media at its default budget (600 a minute per slot, bursts of 120); the account's API
    # reads at 20 a minute.
    settings = limited(stack, read=budget(anonymous=100, premium=20))
    folder = f"/{published.prefix}"
    ip = client_v6()
    async with (
        TestClient(TestServer(create_origin(settings))) as origin,
        streaming(settings) as (api, standin),
    ):
        device = Device()
        standin.grant(device.account_id, "premium")
        tokens = [_token(stack, folder) for _ in range(4)]
        assert len(set(tokens)) == 4
        # A minute of four streams of 4 s segments is ~120 requests; each stream here makes
        # 40 at once, faster than any player would.
        streams = await asyncio.gather(*(_stream(origin, t, folder, 40, ip) for t in tokens))
        assert all(status == 200 for statuses in streams for status in statuses)
        headers = {**forwarded(ip), **device.headers(stack)}
        api_statuses = [(await api.get(READ, headers=headers)).status for _ in range(22)]
        assert api_statuses == [200] * 20 + [429, 429]
        # The streams are untouched by the API's refusals.
        again = await asyncio.gather(*(_stream(origin, t, folder, 10, ip) for t in tokens))
        assert all(status == 200 for statuses in again for status in statuses)
        last = await origin.get(f"/t/{tokens[0]}{folder}master.m3u8", headers=forwarded(ip))
        assert last.headers["RateLimit-Policy"] == '"media";q=120;w=12'


async def test_one_slot_is_refused_past_its_burst(stack: Settings, published: Published) -> None:
    # The default burst, refilled slowly (one every 30 s): however slow this machine is, the
    # burst is all that passes.
    slow = RateRule(limit=120, period_s=3600, algorithm="gcra", burst=120)
    settings = limited(stack, media_per_slot=slow)
    folder = f"/{published.prefix}"
    async with TestClient(TestServer(create_origin(settings))) as origin:
        token = _token(stack, folder)
        statuses = await _stream(origin, token, folder, 125, client_v6())
        assert statuses == [200] * 120 + [429] * 5
        refused = await origin.get(f"/t/{token}{folder}master.m3u8")
        assert refused.status == 429
        assert (await refused.json())["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # Another grant (another stream) is its own slot.
        fresh = _token(stack, folder)
        assert (await origin.get(f"/t/{fresh}{folder}master.m3u8")).status == 200
