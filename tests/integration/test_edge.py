"""The local edge (the stack's real process) in front of the real origin, and playback URLs."""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urljoin

import aiohttp
import httpx
import m3u8
import pytest

from cdn_adapters.local_edge import LocalEdgeAdapter
from devstack.services import local_edge
from streamcore import signing
from streamcore.settings import LocalEdgeCdn, Settings
from tests.integration.published import Published, catalog_row

pytestmark = pytest.mark.stack


@pytest.fixture
def edge(stack: Settings) -> LocalEdgeAdapter:
    config = local_edge(stack)
    assert isinstance(config, LocalEdgeCdn)
    return LocalEdgeAdapter(stack, config)


def edge_stats(stack: Settings) -> dict:
    config = local_edge(stack)
    assert config is not None
    return httpx.get(f"{config.url}/_edge/stats", timeout=5).json()


def origin_fetches(stack: Settings, path: str) -> int:
    return int(edge_stats(stack)["origin_requests_by_path"].get(path, 0))


def test_a_second_request_is_a_hit_and_a_purge_makes_the_next_a_miss(
    stack: Settings, edge: LocalEdgeAdapter, published: Published
) -> None:
    path = f"/{published.prefix}video/360p/seg_00001.m4s"
    url = edge.signed_url(path, ttl_s=300, scope=f"/{published.prefix}")
    first = httpx.get(url, timeout=10)
    assert first.status_code == 200 and first.headers["X-Cache"] == "MISS"
    assert first.content == published.segment
    second = httpx.get(url, timeout=10)
    assert second.headers["X-Cache"] == "HIT" and second.content == published.segment
    assert origin_fetches(stack, path) == 1

    ranged = httpx.get(url, headers={"Range": "bytes=10-19"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == published.segment[10:20]
    assert ranged.headers["X-Cache"] == "HIT"

    result = asyncio.run(edge.purge([f"/assets/{published.asset_id}/"], reference="test-purge"))
    assert result.state == "completed"
    third = httpx.get(url, timeout=10)
    assert third.headers["X-Cache"] == "MISS"
    assert origin_fetches(stack, path) == 2


def test_concurrent_misses_make_one_origin_request(
    stack: Settings, edge: LocalEdgeAdapter, published: Published
) -> None:
    path = f"/{published.prefix}poster/poster_320.jpg"
    url = edge.signed_url(path, ttl_s=300)

    async def fetch_all() -> list[tuple[int, str]]:
        async with aiohttp.ClientSession() as session:

            async def one() -> tuple[int, str]:
                async with session.get(url) as response:
                    await response.read()
                    return response.status, response.headers["X-Cache"]

            return await asyncio.gather(*(one() for _ in range(20)))

    results = asyncio.run(fetch_all())
    assert {status for status, _ in results} == {200}
    assert origin_fetches(stack, path) == 1


def test_the_edge_checks_tokens_itself(
    stack: Settings, edge: LocalEdgeAdapter, published: Published
) -> None:
    path = f"/{published.prefix}video/360p/init.mp4"
    foreign = edge.signed_url(f"/assets/{uuid.uuid4()}/v1/x.m4s", ttl_s=300)
    token = foreign.split("/t/", 1)[1].split("/", 1)[0]
    config = local_edge(stack)
    assert config is not None
    response = httpx.get(f"{config.url}/t/{token}{path}", timeout=10)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert origin_fetches(stack, path) == 0


def test_purging_needs_the_purge_key(stack: Settings) -> None:
    config = local_edge(stack)
    assert config is not None
    response = httpx.post(
        f"{config.url}/_edge/purge", json={"paths": ["/assets/"]},
        headers={"Authorization": "Bearer wrong"}, timeout=5,
    )  # fmt: skip
    assert response.status_code == 401


def test_playback_lists_the_edge_first_and_the_origin_last_and_both_play(
    stack: Settings, published: Published, streaming_url: str
) -> None:
    asyncio.run(catalog_row(stack, published.asset_id))
    response = httpx.get(
        f"{streaming_url}/v1/playback/{published.asset_id}", params={"ttl": 600}, timeout=10
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["name"] for s in body["sources"]] == ["edge", "origin"]
    for source in body["sources"]:
        master_url = source["hls"]
        master = m3u8.loads(httpx.get(master_url, timeout=10).text, uri=master_url)
        for variant in master.playlists:
            child = urljoin(master_url, variant.uri)
            media = m3u8.loads(httpx.get(child, timeout=10).text, uri=child)
            for segment in media.segments:
                assert httpx.get(urljoin(child, segment.uri), timeout=10).status_code == 200
        assert httpx.get(source["dash"], timeout=10).status_code == 200


def test_playback_of_an_unpublished_asset_is_a_409(stack: Settings, streaming_url: str) -> None:
    key = stack.auth.service_key().get_secret_value()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/octet-stream"}
    created = httpx.post(
        f"{stack.catalog_api.url}/v1/assets", content=b"x", headers=headers, timeout=10
    ).json()
    response = httpx.get(f"{streaming_url}/v1/playback/{created['id']}", timeout=10)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_ready"


def test_admin_cli_lists_cdns_and_purges_an_asset(stack: Settings, published: Published) -> None:
    import json
    import subprocess
    import sys

    cli = [sys.executable, "-m", "cli", "cdn"]
    listed = subprocess.run([*cli, "list", "--json"], capture_output=True, text=True, check=True)
    assert [c["name"] for c in json.loads(listed.stdout)] == ["edge"]
    purged = subprocess.run(
        [*cli, "purge", "--asset", str(published.asset_id), "--wait", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert purged.returncode == 0, purged.stderr
    result = json.loads(purged.stdout)[0]
    assert result["state"] == "completed" and result["paths"] == [f"/assets/{published.asset_id}/"]
    status = subprocess.run(
        [*cli, "status", result["purge_id"], "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(status.stdout)["state"] == "completed"
    bad = subprocess.run([*cli, "purge", "--asset", "nope"], capture_output=True, text=True)
    assert bad.returncode == 1 and "not an asset id" in bad.stderr


def test_steering_manifests_put_the_edge_first(
    stack: Settings, published: Published, streaming_url: str
) -> None:
    base = f"{streaming_url}/v1/playback/{published.asset_id}/steering"
    hls = httpx.get(f"{base}/hls", timeout=5).json()
    # The pathways are in the viewer's master playlist; "." is a query-token master's own.
    assert hls["PATHWAY-PRIORITY"] == ["edge", "origin", "."]
    assert "PATHWAY-CLONES" not in hls
    dash = httpx.get(f"{base}/dash", timeout=5).json()
    assert dash["SERVICE-LOCATION-PRIORITY"] == ["edge", "origin"]
    assert httpx.get(f"{base}/smooth", timeout=5).status_code == 404


def test_the_edge_never_hands_one_viewers_manifest_to_another(
    stack: Settings, published: Published
) -> None:
    """Viewer manifests carry the viewer's token; the edge caches by path without the token,
    so it must not keep them (the origin marks them private)."""
    edge = local_edge(stack)
    assert edge is not None
    key_id = stack.origin.active_key_id
    assert key_id is not None
    for name in ("master.m3u8", "manifest.mpd"):
        for ttl in (600, 700):  # two viewers, two tokens
            token = signing.sign(
                stack.origin.signing_keys, key_id, f"/assets/{published.asset_id}/", ttl_s=ttl
            )
            response = httpx.get(f"{edge.url}/t/{token}/{published.prefix}{name}", timeout=5)
            assert response.status_code == 200
            assert response.headers["X-Cache"] == "MISS"
            assert f"/t/{token}/" in response.text
