"""CloudflareAdapter purges through the official SDK, against a local stand-in of the API.

The Cloudflare API cannot be reached from here. `PurgeApi` stands in for it: a real HTTP
server on 127.0.0.1 implementing `POST /client/v4/zones/{zone_id}/purge_cache` as Cloudflare
documents it (Bearer token; a JSON body with exactly one of files, prefixes, tags, hosts,
purge_everything; at most 100 files or 30 prefixes; files as full URLs, prefixes without a
scheme), answering in Cloudflare's envelope, recording every request, and able to answer 429
with Retry-After. The SDK is pointed at it through `api_base_url`.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from cdn_adapters.base import CdnError, CdnUnavailable, PurgeState
from cdn_adapters.cloudflare import CloudflareAdapter, RateLimited
from streamcore.settings import CloudflareCdn
from tests.processes import free_port

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"
TOKEN = "test-api-token"
ASSET = f"/assets/{uuid.UUID(int=1)}/"
OTHER = f"/assets/{uuid.UUID(int=2)}/"
KINDS = {"files", "prefixes", "tags", "hosts", "purge_everything"}
LIMITS = {"files": 100, "prefixes": 30, "tags": 100, "hosts": 100}


@dataclass
class PurgeApi:
    rate_limit_first: int = 0
    retry_after: str | None = "1"
    fail_with: int | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)

    async def purge_cache(self, request: web.Request) -> web.Response:
        if request.match_info["zone_id"] != ZONE:
            return _error(
                404,
                7003,
                "Could not route to /zones/..., perhaps your object identifier is invalid?",
            )
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _error(403, 10000, "Authentication error")
        if self.fail_with is not None:
            return _error(self.fail_with, 10000, "Something went wrong")
        body = await request.json()
        problem = _shape_problem(body)
        if problem:
            self.rejected.append(problem)
            return _error(400, 1012, problem)
        if self.rate_limit_first > 0:
            self.rate_limit_first -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            return _error(
                429, 971, "Please wait and consider throttling your request speed", headers
            )
        self.requests.append({"body": body, "at": time.monotonic()})
        result = {"id": uuid.uuid4().hex}
        return web.json_response({"success": True, "errors": [], "messages": [], "result": result})


def _shape_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or len(body) != 1 or not set(body) <= KINDS:
        return f"send exactly one of {sorted(KINDS)}: got {body!r}"
    ((kind, items),) = body.items()
    if kind == "purge_everything":
        return None if items is True else "purge_everything must be true"
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        return f"{kind} must be a non-empty list of strings"
    if len(items) > LIMITS[kind]:
        return f"at most {LIMITS[kind]} {kind} per request: got {len(items)}"
    if kind == "files" and not all(i.startswith(("https://", "http://")) for i in items):
        return "files are full URLs"
    if kind == "prefixes" and any("://" in i or "?" in i or "#" in i for i in items):
        return "prefixes are host and path, without scheme, query or fragment"
    return None


def _error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": None,
    }
    return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def api() -> AsyncIterator[tuple[PurgeApi, str]]:
    # The stand-in for the Cloudflare API, on a free local port.
    state = PurgeApi()
    app = web.Application()
    app.router.add_post("/client/v4/zones/{zone_id}/purge_cache", state.purge_cache)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    yield state, f"http://127.0.0.1:{sock.getsockname()[1]}/client/v4"
    await runner.cleanup()
    sock.close()


def _adapter(api_base_url: str, *, batch: int = 30, token: str = TOKEN) -> CloudflareAdapter:
    cfg = CloudflareCdn(
        kind="cloudflare",
        name="cf",
        base_url="https://media.example.com",
        zone_id=ZONE,
        api_token=token,
        hmac_secret="secret",
        api_base_url=api_base_url,
        purge_batch_size=batch,
    )
    return CloudflareAdapter.from_settings(cfg)


def _segments(count: int) -> list[str]:
    return [f"{ASSET}v1/720p/seg_{i:05}.m4s" for i in range(count)]


async def test_files_go_in_chunks_of_the_batch_size(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    result = await _adapter(url).purge(_segments(65), reference="publish-1")
    sizes = [len(r["body"]["files"]) for r in state.requests]
    assert sizes == [30, 30, 5]
    sent = [f for r in state.requests for f in r["body"]["files"]]
    assert sent == [f"https://media.example.com{path}" for path in sorted(_segments(65))]
    assert result.state is PurgeState.COMPLETED
    assert len(result.provider_ids) == 3
    assert state.rejected == []


async def test_up_to_100_files_per_request_when_configured(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    await _adapter(url, batch=100).purge(_segments(250), reference="publish-2")
    assert [len(r["body"]["files"]) for r in state.requests] == [100, 100, 50]


async def test_a_whole_asset_is_a_prefix_purge(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    result = await _adapter(url).purge([ASSET, f"{ASSET}v1/master.m3u8"], reference="delete-1")
    assert [r["body"] for r in state.requests] == [{"prefixes": [f"media.example.com{ASSET}"]}]
    assert result.paths == (ASSET,)


async def test_prefixes_and_files_are_separate_requests(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    folders = [f"/assets/{uuid.UUID(int=100 + i)}/" for i in range(31)]
    await _adapter(url, batch=100).purge([*folders, f"{OTHER}v1/master.m3u8"], reference="r")
    bodies = [r["body"] for r in state.requests]
    assert [len(b.get("prefixes", [])) for b in bodies] == [30, 1, 0]
    assert bodies[2] == {"files": [f"https://media.example.com{OTHER}v1/master.m3u8"]}


async def test_429_waits_for_retry_after_then_succeeds(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    state.rate_limit_first = 2
    started = time.monotonic()
    result = await _adapter(url).purge(_segments(3), reference="r")
    assert time.monotonic() - started >= 2.0  # Retry-After: 1, twice
    assert len(state.requests) == 1
    assert result.state is PurgeState.COMPLETED


async def test_429_gives_up_after_bounded_retries(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    state.rate_limit_first = 100
    state.retry_after = "0"
    adapter = _adapter(url)
    with pytest.raises(RateLimited, match="rate-limited") as info:
        await adapter.purge(_segments(3), reference="r")
    assert isinstance(info.value, CdnUnavailable)
    assert info.value.retry_after_s == 0.0
    assert state.rate_limit_first == 100 - 5  # one try and four retries, no more


async def test_a_long_retry_after_is_handed_back_instead_of_slept(
    api: tuple[PurgeApi, str],
) -> None:
    state, url = api
    state.rate_limit_first = 1
    state.retry_after = "3600"
    with pytest.raises(RateLimited) as info:
        await _adapter(url).purge(_segments(3), reference="r")
    assert info.value.retry_after_s == 3600.0
    assert state.rate_limit_first == 0  # asked once, not retried


async def test_403_is_a_cdn_error_with_a_useful_message(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    with pytest.raises(CdnError, match="Cache Purge permission") as info:
        await _adapter(url, token="wrong-token").purge(_segments(1), reference="r")
    assert not isinstance(info.value, CdnUnavailable)
    assert "10000: Authentication error" in str(info.value)
    assert state.requests == []


async def test_5xx_is_cdn_unavailable(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    state.fail_with = 503
    with pytest.raises(CdnUnavailable, match="HTTP 503"):
        await _adapter(url).purge(_segments(1), reference="r")


async def test_an_unreachable_api_is_cdn_unavailable() -> None:
    port = free_port()
    with pytest.raises(CdnUnavailable, match="unreachable"):
        await _adapter(f"http://127.0.0.1:{port}/client/v4").purge([ASSET], reference="r")


async def test_purge_status_of_a_returned_id(api: tuple[PurgeApi, str]) -> None:
    _, url = api
    adapter = _adapter(url)
    result = await adapter.purge([ASSET, *_segments(3)], reference="job-5")
    assert await adapter.purge_status(result.purge_id) == result
    # Another process (a fresh adapter) still reads the Cloudflare ids out of the purge id.
    elsewhere = await _adapter(url).purge_status(result.purge_id)
    assert elsewhere.state is PurgeState.COMPLETED
    assert elsewhere.provider_ids == result.provider_ids
    assert result.purge_id.startswith(f"cf:{ZONE}:")  # the adapter's name routes it
    with pytest.raises(CdnError, match="not a purge id"):
        await adapter.purge_status("other:E1:I1")


async def test_an_empty_purge_sends_nothing(api: tuple[PurgeApi, str]) -> None:
    state, url = api
    result = await _adapter(url).purge([], reference="r")
    assert result.state is PurgeState.COMPLETED
    assert state.requests == []
