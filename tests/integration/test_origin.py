"""The origin against real object storage: tokens, ranges, validators, CORS, gzip, traversal."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urljoin, urlsplit

import httpx
import m3u8
import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from devstack.services import local_edge
from origin.app import create_app
from origin.resources import DISK_KEY
from streamcore import signing
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from tests.integration.published import MASTER, Published, publish
from tests.processes import free_port, wait_until_healthy
from workers import processing

pytestmark = pytest.mark.stack


def without_steering(master: str) -> str:
    """A query-token master as published: the origin adds only the content steering tag."""
    lines = master.splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("#EXT-X-CONTENT-STEERING"))


def _origin_settings(stack: Settings, **changes: object) -> Settings:
    return stack.model_copy(update={"origin": stack.origin.model_copy(update=changes)})


@pytest.fixture
async def client(stack: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(stack))) as c:
        yield c


def token(
    stack: Settings, scope: str, ttl_s: int = 600, key_id: str | None = None, **kw: object
) -> str:
    key_id = key_id or stack.origin.active_key_id
    assert key_id is not None
    return signing.sign(stack.origin.signing_keys, key_id, scope, ttl_s=ttl_s, **kw)  # type: ignore[arg-type]


def url(stack: Settings, published: Published, name: str, **kw: object) -> str:
    scope = f"/assets/{published.asset_id}/"
    return f"/t/{token(stack, scope, **kw)}/{published.prefix}{name}"


def query_of(stack: Settings, published: Published) -> str:
    return f"token={token(stack, f'/assets/{published.asset_id}/')}"


async def test_playlist_is_served_with_type_validators_and_caching(
    client: TestClient, stack: Settings, published: Published
) -> None:
    query = query_of(stack, published)
    response = await client.get(f"/{published.prefix}master.m3u8?{query}")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert response.headers["ETag"].startswith('"') and response.headers["Last-Modified"]
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert without_steering(await response.text()) == MASTER.replace(
        "index.m3u8", f"index.m3u8?{query}"
    )


@pytest.mark.parametrize(
    ("name", "content_type", "immutable"),
    [
        ("manifest.mpd", "application/dash+xml", False),
        ("video/360p/init.mp4", "video/mp4", True),
        ("video/360p/seg_00001.m4s", "video/iso.segment", True),
        ("poster/poster_320.jpg", "image/jpeg", True),
        ("storyboard/storyboard.vtt", "text/vtt", False),
    ],
)
async def test_content_types_come_from_our_table(
    client: TestClient, stack: Settings, published: Published, name: str, content_type: str,
    immutable: bool,
) -> None:  # fmt: skip
    response = await client.get(url(stack, published, name))
    assert response.status == 200
    assert response.headers["Content-Type"] == content_type
    assert ("immutable" in response.headers["Cache-Control"]) is immutable


async def test_manifests_are_gzipped_for_clients_that_accept_it(
    client: TestClient, stack: Settings, published: Published
) -> None:
    response = await client.get(
        url(stack, published, "master.m3u8"),
        headers={"Accept-Encoding": "gzip"},
        auto_decompress=False,
    )
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(await response.read()).decode().startswith("#EXTM3U\n")
    segment = await client.get(
        url(stack, published, "video/360p/seg_00001.m4s"), headers={"Accept-Encoding": "gzip"}
    )
    assert "Content-Encoding" not in segment.headers


async def test_ranges_pass_through_to_storage(
    client: TestClient, stack: Settings, published: Published
) -> None:
    size = len(published.segment)
    segment_url = url(stack, published, "video/360p/seg_00001.m4s")
    response = await client.get(segment_url, headers={"Range": "bytes=100-1099"})
    assert response.status == 206
    assert response.headers["Content-Range"] == f"bytes 100-1099/{size}"
    assert await response.read() == published.segment[100:1100]

    tail = await client.get(segment_url, headers={"Range": "bytes=-500"})
    assert tail.status == 206 and await tail.read() == published.segment[-500:]

    beyond = await client.get(segment_url, headers={"Range": f"bytes={size}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"
    assert beyond.headers["Access-Control-Allow-Origin"] == "*"


async def test_if_range_sends_a_range_only_for_the_current_version(
    client: TestClient, stack: Settings, published: Published
) -> None:
    segment_url = url(stack, published, "video/360p/seg_00001.m4s")
    etag = (await client.head(segment_url)).headers["ETag"]
    same = await client.get(segment_url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status == 206 and len(await same.read()) == 10
    other = await client.get(segment_url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert other.status == 200 and await other.read() == published.segment


async def test_head_sends_headers_and_never_downloads(
    client: TestClient, stack: Settings, published: Published
) -> None:
    response = await client.head(url(stack, published, "video/360p/seg_00001.m4s"))
    assert response.status == 200
    assert int(response.headers["Content-Length"]) == len(published.segment)
    assert await response.read() == b""
    metrics = await (await client.get("/metrics")).text()
    assert 'origin_storage_seconds_count{op="head"}' in metrics
    assert 'origin_storage_seconds_count{op="get"}' not in metrics


async def test_conditional_requests_answer_304_without_a_body(
    client: TestClient, stack: Settings, published: Published
) -> None:
    for name in ("master.m3u8", "video/360p/seg_00001.m4s"):
        path = url(stack, published, name)  # once: a viewer's master embeds its token
        first = await client.get(path)
        etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status == 304 and await again.read() == b""
        since = await client.get(path, headers={"If-Modified-Since": modified})
        assert since.status == 304


@pytest.mark.parametrize(
    ("make_path", "status", "code"),
    [
        (lambda t, p: f"/t/{t}/{p}video/360p/../../v1/master.m3u8", 400, "bad_path"),
        (lambda t, p: f"/t/{t}/{p}video%2F360p%2Finit.mp4", 400, "bad_path"),
        (lambda t, p: f"/t/{t}/{p}video/360p/init.mp4%00.m3u8", 400, "bad_path"),
        (lambda t, p: f"/t/{t}/{p}missing.m3u8", 404, "not_found"),
        (lambda t, p: f"/t/{t}/{p}video/360p/seg_00001.exe", 404, "not_found"),
        (lambda t, p: f"/t/{t[:-4]}AAAA/{p}master.m3u8", 403, "bad_signature"),
        (lambda t, p: f"/{p}master.m3u8", 403, "bad_signature"),
    ],
)
async def test_bad_requests_get_a_json_error_that_is_never_cached(
    client: TestClient, stack: Settings, published: Published, make_path, status: int, code: str
) -> None:
    path = make_path(token(stack, f"/assets/{published.asset_id}/"), published.prefix)
    status_line, headers, body = await raw_get(client, path, {"Origin": "https://player.example"})
    assert status_line.split()[1] == str(status)
    assert json.loads(body)["error"]["code"] == code
    assert headers["cache-control"] == "no-store"
    assert headers["access-control-allow-origin"] == "*"


async def raw_get(
    client: TestClient, path: str, headers: dict[str, str]
) -> tuple[str, dict[str, str], bytes]:
    """Send the request line exactly as written: HTTP clients resolve '..' before sending."""
    assert client.server.port is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", client.server.port)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: origin\r\n{extra}Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    parsed = dict(line.split(": ", 1) for line in lines[1:])
    return lines[0], {k.lower(): v for k, v in parsed.items()}, body


async def test_expired_and_foreign_tokens_are_refused(
    client: TestClient, stack: Settings, published: Published
) -> None:
    expired = token(stack, f"/assets/{published.asset_id}/", ttl_s=1, now=time.time() - 3600)
    response = await client.get(f"/t/{expired}/{published.prefix}master.m3u8")
    assert response.status == 403 and (await response.json())["error"]["code"] == "token_expired"
    other = token(stack, f"/assets/{uuid.uuid4()}/")
    response = await client.get(f"/t/{other}/{published.prefix}master.m3u8")
    assert response.status == 403 and (await response.json())["error"]["code"] == "bad_signature"
    # A prefix scope ends at a "/" boundary: /assets/<id> does not open /assets/<id>x/...
    narrow = token(stack, f"/{published.prefix}video/")
    assert (await client.get(f"/t/{narrow}/{published.prefix}master.m3u8")).status == 403
    assert (await client.get(f"/t/{narrow}/{published.prefix}video/360p/init.mp4")).status == 200


async def test_keys_rotate_with_old_and_new_valid_together(
    stack: Settings, published: Published
) -> None:
    old, new = SecretStr("old-key-material"), SecretStr("new-key-material")
    both = _origin_settings(
        stack, signing_keys={"2026-10": old, "2026-11": new}, active_key_id="2026-11"
    )
    only_new = _origin_settings(stack, signing_keys={"2026-11": new}, active_key_id="2026-11")
    old_token = signing.sign(
        {"2026-10": old}, "2026-10", f"/assets/{published.asset_id}/", ttl_s=60
    )
    path = f"/t/{old_token}/{published.prefix}master.m3u8"
    async with TestClient(TestServer(create_app(both))) as c:
        assert (await c.get(path)).status == 200
    async with TestClient(TestServer(create_app(only_new))) as c:
        assert (await c.get(path)).status == 403


async def test_preflight_is_answered(client: TestClient, published: Published) -> None:
    response = await client.options(
        f"/{published.prefix}master.m3u8",
        headers={"Origin": "https://player.example", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "range"},
    )  # fmt: skip
    assert response.status == 204
    assert "Range" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_cors_allow_list_echoes_only_listed_origins(
    stack: Settings, published: Published
) -> None:
    settings = _origin_settings(stack, cors_allowed_origins=("https://ok.example",))
    async with TestClient(TestServer(create_app(settings))) as c:
        path = url(stack, published, "master.m3u8")
        ok = await c.get(path, headers={"Origin": "https://ok.example"})
        assert ok.headers["Access-Control-Allow-Origin"] == "https://ok.example"
        bad = await c.get(path, headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in bad.headers


async def _walk(client: TestClient, master_url: str) -> list[str]:
    """Fetch a master playlist and every URI it leads to; return the URLs fetched.

    Relative URLs go to the app under test; absolute ones (a viewer's master names every
    source) to the stack's own running edge and origin.
    """

    async def get(target: str) -> tuple[int, str, bytes]:
        if urlsplit(target).scheme:
            async with httpx.AsyncClient(timeout=10) as http:
                answer = await http.get(target)
                return answer.status_code, answer.headers.get("Cache-Control", ""), answer.content
        response = await client.get(target)
        return response.status, response.headers.get("Cache-Control", ""), await response.read()

    fetched = [master_url]
    status, _, body = await get(master_url)
    assert status == 200
    master = m3u8.loads(body.decode(), uri=master_url)
    children = [p.uri for p in master.playlists] + [m.uri for m in master.media if m.uri]
    for child in children:
        child_url = urljoin(master_url, child)
        status, _, body = await get(child_url)
        assert status == 200, child_url
        fetched.append(child_url)
        media = m3u8.loads(body.decode(), uri=child_url)
        for uri in [s.uri for s in media.segments] + [m.uri for m in media.segment_map]:
            file_url = urljoin(child_url, uri)
            status, _, _ = await get(file_url)
            assert status == 200, file_url
            fetched.append(file_url)
    return fetched


async def test_a_viewers_master_lists_every_source_as_a_pathway_that_plays(
    client: TestClient, stack: Settings, published: Published
) -> None:
    master_url = url(stack, published, "master.m3u8")
    response = await client.get(master_url)
    # It carries the viewer's token: no shared cache may keep it.
    assert response.headers["Cache-Control"].startswith("private")
    master = m3u8.loads(await response.text())
    token_path = "/".join(master_url.split("/")[:3])  # /t/<token>
    edge = local_edge(stack)
    assert edge is not None
    bases = {"edge": edge.url, "origin": stack.origin_url}
    assert master.content_steering.pathway_id == "edge"
    assert [p.stream_info.pathway_id for p in master.playlists] == ["edge", "origin"]
    for variant in master.playlists:
        prefix = f"{bases[variant.stream_info.pathway_id]}{token_path}/{published.prefix}"
        assert variant.uri == f"{prefix}video/360p/index.m3u8"
        assert variant.stream_info.stable_variant_id == "video.360p.index"
        assert variant.stream_info.audio == f"aac-{variant.stream_info.pathway_id}"
    # Both pathways play, through the real edge and origin: 2 x (2 playlists, 2 init, 2 segments).
    fetched = await _walk(client, master_url)
    assert len(fetched) == 1 + 2 * 6
    assert {urlsplit(f).netloc for f in fetched[1:]} == {urlsplit(b).netloc for b in bases.values()}
    assert all(urlsplit(f).path.startswith("/t/") for f in fetched)


async def test_query_mode_rewrites_every_uri_to_carry_the_token(
    client: TestClient, stack: Settings, published: Published
) -> None:
    tok = token(stack, f"/assets/{published.asset_id}/")
    master_url = f"/{published.prefix}master.m3u8?token={tok}"
    fetched = await _walk(client, master_url)
    assert len(fetched) == 7
    assert all(f"token={tok}" in f for f in fetched)
    mpd = await (await client.get(f"/{published.prefix}manifest.mpd?token={tok}")).text()
    assert f"init.mp4?token={tok}" in mpd and f"seg_$Number%05d$.m4s?token={tok}" in mpd


async def test_overload_answers_503_with_retry_after(stack: Settings, published: Published) -> None:
    """With one request in flight allowed, a second one is shed while the first streams."""
    key = f"{published.prefix}video/360p/seg_99999.m4s"
    async with open_storage(stack) as storage:
        await storage.put_bytes(
            stack.s3.media_bucket,
            key,
            os.urandom(16 * 1024 * 1024),
            content_type="video/iso.segment",
        )
    settings = _origin_settings(stack, max_inflight=1)
    async with TestClient(TestServer(create_app(settings))) as c:
        slow = await c.get(url(stack, published, "video/360p/seg_99999.m4s"))  # body left unread
        assert slow.status == 200
        shed = await c.get(url(stack, published, "master.m3u8"))
        assert shed.status == 503
        assert shed.headers["Retry-After"] == "1"
        assert (await shed.json())["error"]["code"] == "unavailable"
        slow.close()


def test_draining_origin_answers_healthz_503_then_stops(stack: Settings) -> None:
    """SIGTERM: /healthz says 503 (the gateway moves away) while requests are still served."""
    port, agent_port = free_port(), free_port()
    env = {
        **os.environ,
        "STREAMCORE_ORIGIN__PORT": str(port),
        "STREAMCORE_ORIGIN__AGENT_PORT": str(agent_port),
        "STREAMCORE_ORIGIN__DRAIN_S": "3",
    }
    process = subprocess.Popen([sys.executable, "-m", "origin"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_healthy(base, process, "the origin")
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        draining = httpx.get(f"{base}/healthz", timeout=2)
        assert draining.status_code == 503
        assert draining.json()["status"] == "draining"
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()


async def test_master_playlists_name_the_steering_manifest(
    client: TestClient, stack: Settings, published: Published
) -> None:
    # The streaming service's, as players reach it: through the gateway.
    server = f"{stack.gateway.entry_url}/v1/playback/{published.asset_id}/steering/hls"
    for path, pathway in [
        (url(stack, published, "master.m3u8"), "edge"),  # the viewer's, with every source
        (f"/{published.prefix}master.m3u8?{query_of(stack, published)}", "."),
    ]:
        lines = (await (await client.get(path)).text()).splitlines()
        tag = f'#EXT-X-CONTENT-STEERING:SERVER-URI="{server}",PATHWAY-ID="{pathway}"'
        assert tag in lines
        assert lines.index(tag) < next(i for i, line in enumerate(lines) if "STREAM-INF" in line)
    media = await (await client.get(url(stack, published, "video/360p/index.m3u8"))).text()
    assert "CONTENT-STEERING" not in media


async def test_an_mpd_lists_every_source_with_the_viewers_token_and_stays_private(
    client: TestClient, stack: Settings, published: Published
) -> None:
    import xml.etree.ElementTree as ET

    mpd_url = url(stack, published, "manifest.mpd")
    token = mpd_url.split("/")[2]
    response = await client.get(mpd_url)
    assert response.headers["Cache-Control"].startswith("private")
    root = ET.fromstring(await response.text())  # noqa: S314 (our own response)
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}
    bases = {b.get("serviceLocation"): b.text for b in root.findall("d:BaseURL", ns)}
    folder = f"/t/{token}/{published.prefix}"
    assert list(bases) == ["edge", "origin"]
    assert bases["origin"] == f"{stack.origin_url}{folder}"
    assert bases["edge"].endswith(folder) and bases["edge"] != bases["origin"]
    steering = root.find("d:ContentSteering", ns)
    assert steering is not None and steering.get("defaultServiceLocation") == "edge"
    steering_url = f"{stack.gateway.entry_url}/v1/playback/{published.asset_id}/steering/dash"
    assert steering.text == steering_url


# The disk cache (origin/disk_cache.py): segments filled from storage once, then sent from disk.


def _metric(text: str, name: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return float(line.split()[1])


async def _disk_metrics(c: TestClient) -> dict[str, float]:
    text = await (await c.get("/metrics")).text()
    names = ("hits", "misses", "fills", "evictions", "bytes", "entries", "live", "purged")
    return {name: _metric(text, f"origin_disk_cache_{name}") for name in names}


async def _until_live(c: TestClient) -> None:
    """The disk cache serves once its purge feed has read the stream's position."""
    for _ in range(100):
        if (await _disk_metrics(c))["live"] == 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the disk cache never went live")


async def _put_segments(
    stack: Settings, published: Published, sizes: dict[str, int]
) -> dict[str, bytes]:
    files = {name: os.urandom(size) for name, size in sizes.items()}
    async with open_storage(stack) as storage:
        for name, data in files.items():
            await storage.put_bytes(
                stack.s3.media_bucket, published.prefix + name, data,
                content_type="video/iso.segment",
            )  # fmt: skip
    return files


async def test_a_warm_segment_comes_from_disk_with_the_streamed_paths_headers(
    stack: Settings, published: Published
) -> None:
    segment_url = url(stack, published, "video/360p/seg_00001.m4s")
    headers = {"Origin": "https://player.example"}
    kept = ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Accept-Ranges",
            "Content-Length", "Access-Control-Allow-Origin")  # fmt: skip
    async with TestClient(TestServer(create_app(_origin_settings(stack, disk_cache_bytes=0)))) as c:
        streamed = await c.get(segment_url, headers=headers)
        assert await streamed.read() == published.segment
        expected = {name: streamed.headers[name] for name in kept}
    async with TestClient(TestServer(create_app(stack))) as c:
        await _until_live(c)
        cold = await c.get(segment_url, headers=headers)
        assert await cold.read() == published.segment
        warm = await c.get(segment_url, headers=headers)
        assert warm.status == 200 and await warm.read() == published.segment
        assert {name: warm.headers[name] for name in kept} == expected
        assert {name: cold.headers[name] for name in kept} == expected
        counts = await _disk_metrics(c)
        assert (counts["hits"], counts["misses"], counts["fills"]) == (1, 1, 1)
        assert counts["bytes"] == len(published.segment) and counts["entries"] == 1


async def test_ranges_and_validators_are_right_from_disk(
    client: TestClient, stack: Settings, published: Published
) -> None:
    await _until_live(client)
    size = len(published.segment)
    segment_url = url(stack, published, "video/360p/seg_00001.m4s")
    etag = (await client.get(segment_url)).headers["ETag"]
    ranged = await client.get(segment_url, headers={"Range": "bytes=100-1099"})
    assert ranged.status == 206
    assert ranged.headers["Content-Range"] == f"bytes 100-1099/{size}"
    assert await ranged.read() == published.segment[100:1100]
    tail = await client.get(segment_url, headers={"Range": "bytes=-500"})
    assert tail.status == 206 and await tail.read() == published.segment[-500:]
    beyond = await client.get(segment_url, headers={"Range": f"bytes={size}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"
    same = await client.get(segment_url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert same.status == 206 and await same.read() == published.segment[:10]
    other = await client.get(segment_url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert other.status == 200 and await other.read() == published.segment
    unchanged = await client.get(segment_url, headers={"If-None-Match": etag})
    assert unchanged.status == 304 and await unchanged.read() == b""
    counts = await _disk_metrics(client)
    assert counts["fills"] == 1 and counts["hits"] == 6


async def test_concurrent_cold_requests_read_storage_once(
    client: TestClient, stack: Settings, published: Published
) -> None:
    files = await _put_segments(stack, published, {"video/360p/seg_00100.m4s": 2_000_000})
    await _until_live(client)
    segment_url = url(stack, published, "video/360p/seg_00100.m4s")

    async def get() -> bytes:
        response = await client.get(segment_url)
        assert response.status == 200
        return await response.read()

    bodies = await asyncio.gather(*(get() for _ in range(20)))
    assert all(body == files["video/360p/seg_00100.m4s"] for body in bodies)
    text = await (await client.get("/metrics")).text()
    assert _metric(text, "origin_disk_cache_fills") == 1
    assert _metric(text, 'origin_storage_seconds_count{op="get"}') == 1


async def test_the_disk_cache_keeps_its_bound_evicting_the_least_recently_used(
    stack: Settings, published: Published
) -> None:
    names = [f"video/360p/seg_0020{i}.m4s" for i in range(1, 4)]
    files = await _put_segments(stack, published, dict.fromkeys(names, 300_000))
    settings = _origin_settings(stack, disk_cache_bytes=750_000)
    async with TestClient(TestServer(create_app(settings))) as c:
        await _until_live(c)

        async def get(name: str) -> None:
            response = await c.get(url(stack, published, name))
            assert response.status == 200 and await response.read() == files[name]

        for name in (names[0], names[1], names[0], names[2]):  # the second is now the oldest
            await get(name)
        counts = await _disk_metrics(c)
        assert counts["evictions"] == 1 and counts["entries"] == 2
        assert counts["bytes"] == 600_000 <= 750_000
        await get(names[0])  # kept: a hit
        assert (await _disk_metrics(c))["fills"] == 3
        await get(names[1])  # evicted: read again
        counts = await _disk_metrics(c)
        assert counts["fills"] == 4 and counts["bytes"] <= 750_000
        folder = c.server.app[DISK_KEY].folder  # type: ignore[union-attr]
        assert folder is not None
        on_disk = [p for p in folder.iterdir() if p.name != "owner.lock"]
        assert len(on_disk) == 2 and sum(p.stat().st_size for p in on_disk) == 600_000


async def test_a_deleted_assets_segments_stop_being_served_from_disk(stack: Settings) -> None:
    doomed = await asyncio.to_thread(publish, stack)  # publish runs a loop of its own
    segment_url = url(stack, doomed, "video/360p/seg_00001.m4s")
    async with TestClient(TestServer(create_app(stack))) as c:
        await _until_live(c)
        for _ in range(2):
            assert await (await c.get(segment_url)).read() == doomed.segment
        assert (await _disk_metrics(c))["hits"] == 1
        await processing.delete_asset_files(stack, doomed.asset_id)  # what the delete task runs
        for _ in range(100):
            if (await c.get(segment_url)).status == 404:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the deleted segment is still served")
        counts = await _disk_metrics(c)
        assert counts["purged"] == 1 and counts["entries"] == 0
        folder = c.server.app[DISK_KEY].folder  # type: ignore[union-attr]
        assert folder is not None and [p.name for p in folder.iterdir()] == ["owner.lock"]
    assert not folder.exists()  # removed on a clean stop
