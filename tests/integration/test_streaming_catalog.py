"""The streaming service and the catalog: separate tables, and calls over HTTP that fail fast.

The catalog here is a real one (the stack's process, or catalog_api's own factory served in
this process on a port the test controls, so that it can be down and come back).
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from catalog_api.app import create_app as create_catalog_app
from catalog_api.resources import METRICS_KEY as CATALOG_METRICS_KEY
from streamcore.assets import repository
from streamcore.cache.breaker import BreakerState, CircuitBreaker
from streamcore.db.database import database_context, pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streaming.app import create_app
from streaming.catalog_client import CatalogClient, CatalogUnavailable
from streaming.resources import CATALOG_KEY, DB_POOL_KEY
from tests.streaming_http import streaming_settings

pytestmark = pytest.mark.stack


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def asset_id(stack: Settings) -> uuid.UUID:
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        row = await repository.create(
            pool, asset_id=uuid.uuid4(), title="asked", source_key="k",
            source_filename="a.mp4", source_size=1, content_type="video/mp4",
        )  # fmt: skip
    return row.id


VIEWER = {"X-Viewer-Id": str(uuid.uuid4())}
REPORT = {"position_s": 3, "session_id": "s"}


async def test_the_streaming_pools_see_only_the_streaming_schema(stack: Settings) -> None:
    async with TestClient(TestServer(create_app(streaming_settings(stack)))) as streaming:
        pool = streaming.app[DB_POOL_KEY]
        assert await pool.fetchval("SELECT to_regclass('watch_sessions')") is not None
        for catalogs in ("assets", "titles", "title_assets"):
            assert await pool.fetchval("SELECT to_regclass($1)", catalogs) is None, catalogs
        with pytest.raises(asyncpg.UndefinedTableError):
            await pool.fetchval("SELECT count(*) FROM assets")
    # ... and the catalog's see none of streaming's.
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        assert await pool.fetchval("SELECT to_regclass('assets')") is not None
        for streams in ("watch_sessions", "watch_progress", "playback_events"):
            assert await pool.fetchval("SELECT to_regclass($1)", streams) is None, streams


async def test_read_replicas_get_the_same_search_path(stack: Settings) -> None:
    async with database_context(stack, schema=Schema.STREAMING) as db:
        on_replica = "SELECT pg_is_in_recovery() AS standby, current_setting('search_path') AS sp"
        row = await db.fetchrow(on_replica)  # a healthy replica takes reads
        assert row is not None and row["standby"], "the read did not go to the replica"
        assert row["sp"] == "streaming"
        assert await db.primary.fetchval("SELECT current_setting('search_path')") == "streaming"


async def test_an_unreachable_catalog_is_a_json_503_with_retry_after(
    stack: Settings, asset_id: uuid.UUID
) -> None:
    settings = streaming_settings(stack, catalog_url=f"http://127.0.0.1:{_free_port()}")
    async with TestClient(TestServer(create_app(settings))) as streaming:
        for method, path, body in (
            ("GET", f"/v1/playback/{asset_id}", None),
            ("GET", f"/v1/playback/{asset_id}/steering/hls", None),
            ("PUT", f"/v1/progress/{asset_id}", REPORT),
            ("POST", "/v1/sessions", {"asset_id": str(asset_id)}),
        ):
            response = await streaming.request(method, path, json=body, headers=VIEWER)
            assert response.status == 503, (method, path)
            assert response.headers["Retry-After"] == "5"  # catalog_breaker_reset_s
            error = (await response.json())["error"]
            assert error["code"] == "unavailable" and "catalog" in error["message"]
        # What does not need the catalog goes on.
        assert (await streaming.post("/v1/viewers")).status == 201


async def test_a_catalog_that_does_not_answer_costs_a_request_the_timeout_at_most(
    stack: Settings, asset_id: uuid.UUID
) -> None:
    # A listening socket that never accepts: the connection hangs, as with a stuck catalog.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(0)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        settings = streaming_settings(stack, catalog_url=url, catalog_timeout_s=0.5)
        async with TestClient(TestServer(create_app(settings))) as streaming:
            started = time.monotonic()
            response = await streaming.get(f"/v1/playback/{asset_id}")
            elapsed = time.monotonic() - started
    assert response.status == 503 and elapsed < 2.0, elapsed


def _catalog_asset_lookups(catalog: TestServer) -> float:
    registry = catalog.app[CATALOG_METRICS_KEY].registry
    labels = {"service": "catalog-api", "route": "/v1/assets/{asset_id}", "method": "GET"}
    return sum(
        registry.get_sample_value("http_requests_total", {**labels, "status": status}) or 0.0
        for status in ("200", "404")
    )


@pytest.fixture
def catalog_port() -> int:
    return _free_port()


@pytest.fixture
async def own_catalog(stack: Settings, catalog_port: int) -> AsyncIterator[TestServer]:
    """The catalog API's own factory, served here on `catalog_port`."""
    server = TestServer(create_catalog_app(stack), host="127.0.0.1", port=catalog_port)
    await server.start_server()
    yield server
    await server.close()


async def test_the_breaker_opens_after_failures_and_then_answers_at_once(
    stack: Settings, asset_id: uuid.UUID, catalog_port: int
) -> None:
    settings = streaming_settings(
        stack, catalog_url=f"http://127.0.0.1:{catalog_port}", catalog_breaker_failures=2
    )
    async with TestClient(TestServer(create_app(settings))) as streaming:
        breaker = streaming.app[CATALOG_KEY].breaker
        for _ in range(2):  # nothing listens
            assert (await streaming.get(f"/v1/playback/{asset_id}")).status == 503
        assert breaker.state is BreakerState.OPEN
        response = await streaming.put(f"/v1/progress/{asset_id}", json=REPORT, headers=VIEWER)
        assert response.status == 503 and response.headers["Retry-After"] == "5"
        assert "keeps failing" in (await response.json())["error"]["message"]
        metrics = await (await streaming.get("/metrics")).text()
        assert "catalog_breaker_state 1.0" in metrics
        assert 'catalog_breaker_transitions_total{to="open"} 1.0' in metrics


class Clock:
    """Time for the breaker, moved by the test (the catalog and the calls are real)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_open_breaker_asks_nobody_until_its_probe_finds_the_catalog_back(
    stack: Settings, asset_id: uuid.UUID, catalog_port: int
) -> None:
    clock = Clock()
    breaker = CircuitBreaker(2, 10.0, clock=clock, name="catalog")
    key = stack.auth.service_key().get_secret_value()
    client = CatalogClient(
        f"http://127.0.0.1:{catalog_port}", key, timeout_s=2.0, breaker=breaker, cache_ttl_s=0
    )
    try:
        for _ in range(2):  # nothing listens yet
            with pytest.raises(CatalogUnavailable, match="did not answer"):
                await client.asset(asset_id)
        assert breaker.state is BreakerState.OPEN
        catalog = TestServer(create_catalog_app(stack), host="127.0.0.1", port=catalog_port)
        await catalog.start_server()
        try:
            # Open: the catalog, up again, is not asked until the cool-down is over.
            with pytest.raises(CatalogUnavailable, match="keeps failing"):
                await client.asset(asset_id)
            assert _catalog_asset_lookups(catalog) == 0
            clock.now += 10.0
            assert breaker.state is BreakerState.HALF_OPEN
            # One probe, which the catalog answers: closed again.
            found = await client.asset(asset_id)
            assert found is not None and found.id == asset_id and found.version == 0
            assert breaker.state is BreakerState.CLOSED
            assert _catalog_asset_lookups(catalog) == 1
        finally:
            await catalog.close()
    finally:
        await client.aclose()


async def test_a_playing_session_does_not_ask_the_catalog_per_progress_report(
    stack: Settings, asset_id: uuid.UUID, catalog_port: int, own_catalog: TestServer
) -> None:
    # A cache that outlasts the test, however slow the machine.
    url = f"http://127.0.0.1:{catalog_port}"
    settings = streaming_settings(stack, catalog_url=url, asset_cache_ttl_s=60)
    async with TestClient(TestServer(create_app(settings))) as streaming:
        path = f"/v1/progress/{asset_id}"
        reports = [streaming.put(path, json=REPORT, headers=VIEWER) for _ in range(5)]
        assert [r.status for r in await asyncio.gather(*reports)] == [204] * 5
        for position in (4, 5, 6):
            report = {**REPORT, "position_s": position}
            assert (await streaming.put(path, json=report, headers=VIEWER)).status == 204
        assert _catalog_asset_lookups(own_catalog) == 1  # concurrent ones shared it, too
        # Playback URLs are signed for the version the catalog says now (not one from the
        # cache, which a reprocess may have deleted since): asked each time.
        for _ in range(2):
            assert (await streaming.get(f"/v1/playback/{asset_id}")).status == 409  # unpublished
        assert _catalog_asset_lookups(own_catalog) == 3
        # An unknown asset is asked about each time: it may exist the next moment.
        unknown = f"/v1/progress/{uuid.uuid4()}"
        for _ in range(2):
            assert (await streaming.put(unknown, json=REPORT, headers=VIEWER)).status == 404
        assert _catalog_asset_lookups(own_catalog) == 5
