"""A plan's highest rendition, enforced by the test stack's real origin and local edge (their own
processes, against the stack's object storage): a playback token for a 720p plan gets a master
playlist and an MPD listing only the renditions it opens (both still valid: parsed with the
`m3u8` library and ElementTree), and 403 ``rendition_not_allowed`` for a guessed 1080p URL at
the origin and at the edge, even once the edge holds that segment, cached for a 1080p token.
The URLs are the ones `cdn_adapters.playback.sources` hands out: one token, in the path, for
every path-token source."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urljoin

import httpx
import m3u8
import pytest

from cdn_adapters.playback import sources
from cdn_adapters.registry import build_adapters
from devstack.services import local_edge
from streamcore import entitlements, signing
from streamcore.settings import Settings
from tests.integration.published import Ladder, publish_ladder
from tests.ladder_manifests import DASH, LADDER

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def ladder(stack: Settings) -> Ladder:
    return publish_ladder(stack)


def urls_for(stack: Settings, ladder: Ladder, plan: str | None) -> dict[str, dict[str, str]]:
    """Playback URLs by source name, for a viewer on `plan` (None: unlimited, a tool's)."""
    renditions = (
        None
        if plan is None
        else entitlements.allowed_renditions(entitlements.of_plan(stack.plans[plan]), LADDER)
    )
    body = sources(stack, build_adapters(stack), ladder.asset_id, 1, ttl_s=600,
                   renditions=renditions)  # fmt: skip
    return {source["name"]: source for source in body["sources"]}


def token_of(url: str) -> str:
    return url.split("/t/", 1)[1].split("/", 1)[0]


def edge_url(stack: Settings) -> str:
    config = local_edge(stack)
    assert config is not None
    return config.url


def origin_fetches(stack: Settings, path: str) -> int:
    stats = httpx.get(f"{edge_url(stack)}/_edge/stats", timeout=5).json()
    return int(stats["origin_requests_by_path"].get(path, 0))


def test_one_token_in_one_path_shape_for_the_edge_and_the_origin(
    stack: Settings, ladder: Ladder
) -> None:
    urls = urls_for(stack, ladder, "basic")
    assert set(urls) == {"edge", "origin"}
    edge, origin = urls["edge"], urls["origin"]
    assert token_of(edge["hls"]) == token_of(origin["hls"]) == token_of(edge["dash"])
    assert edge["hls"] == f"{edge_url(stack)}/t/{token_of(edge['hls'])}{ladder.folder}master.m3u8"
    assert origin["hls"].startswith(f"{stack.origin_url}/t/")
    keys = stack.origin.signing_keys
    grant = signing.verify(token_of(edge["hls"]), f"{ladder.folder}master.m3u8", keys)
    assert grant.only == {"360p", "720p"}


@pytest.mark.parametrize("source", ["edge", "origin"])
def test_a_720p_plan_gets_a_master_of_its_renditions_that_plays(
    stack: Settings, ladder: Ladder, source: str
) -> None:
    master_url = urls_for(stack, ladder, "basic")[source]["hls"]
    response = httpx.get(master_url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"].startswith("private")
    playlist = m3u8.loads(response.text, uri=master_url)
    assert playlist.is_variant
    heights = {p.stream_info.resolution[1] for p in playlist.playlists}
    assert heights == {360, 720}
    assert all("/1080p/" not in p.uri for p in playlist.playlists)
    assert {i.uri.rsplit("/", 2)[-2] for i in playlist.iframe_playlists} == {"360p", "720p"}
    assert {m.type for m in playlist.media} == {"AUDIO"}  # the shared audio stays
    for variant in playlist.playlists:  # every variant listed plays, on every pathway
        child = urljoin(master_url, variant.uri)
        media = m3u8.loads(httpx.get(child, timeout=10).text, uri=child)
        assert media.segments, child
        for segment in media.segments:
            assert httpx.get(urljoin(child, segment.uri), timeout=10).status_code == 200


@pytest.mark.parametrize("source", ["edge", "origin"])
def test_a_720p_plan_gets_a_valid_mpd_of_its_renditions(
    stack: Settings, ladder: Ladder, source: str
) -> None:
    mpd_url = urls_for(stack, ladder, "basic")[source]["dash"]
    response = httpx.get(mpd_url, timeout=10)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text)  # noqa: S314 (our own origin's answer)
    assert root.tag == f"{DASH}MPD"
    video, audio = root.iter(f"{DASH}AdaptationSet")
    assert [r.get("id") for r in video.iter(f"{DASH}Representation")] == ["360p", "720p"]
    assert (video.get("maxWidth"), video.get("maxHeight")) == ("1280", "720")
    assert [r.get("id") for r in audio.iter(f"{DASH}Representation")] == ["aac"]
    base = next(root.iter(f"{DASH}BaseURL")).text
    assert base is not None
    for template in root.iter(f"{DASH}SegmentTemplate"):
        for name in (template.get("initialization"), template.get("media")):
            assert name is not None
            path = name.replace("$Number%05d$", "00001")
            assert httpx.get(base + path, timeout=10).status_code == 200, path


def test_a_guessed_1080p_url_is_refused_at_the_origin_and_the_edge(
    stack: Settings, ladder: Ladder
) -> None:
    token = token_of(urls_for(stack, ladder, "basic")["origin"]["hls"])
    for name in ("seg_00001.m4s", "init.mp4", "index.m3u8", "iframes.m3u8"):
        path = f"{ladder.folder}video/1080p/{name}"
        for base in (stack.origin_url, edge_url(stack)):
            response = httpx.get(f"{base}/t/{token}{path}", timeout=10)
            assert response.status_code == 403, (base, name)
            assert response.json()["error"]["code"] == "rendition_not_allowed"
        assert origin_fetches(stack, path) == 0  # refused before the edge's cache


def test_the_edge_never_hands_its_cached_1080p_segment_to_a_720p_token(
    stack: Settings, ladder: Ladder
) -> None:
    path = f"{ladder.folder}video/1080p/seg_00001.m4s"
    full, basic = (token_of(urls_for(stack, ladder, plan)["edge"]["hls"]) for plan in
                   ("standard", "basic"))  # fmt: skip
    edge = edge_url(stack)
    for expected in ("MISS", "HIT"):
        cached = httpx.get(f"{edge}/t/{full}{path}", timeout=10)
        assert cached.status_code == 200 and cached.headers["X-Cache"] == expected
        assert cached.content == ladder.segments["1080p"]
    refused = httpx.get(f"{edge}/t/{basic}{path}", timeout=10)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "rendition_not_allowed"
    assert ladder.segments["1080p"] not in refused.content
    ranged = httpx.get(f"{edge}/t/{basic}{path}", headers={"Range": "bytes=0-99"}, timeout=10)
    assert ranged.status_code == 403
    assert origin_fetches(stack, path) == 1
    # Its own rendition, and what every rendition shares, still play for the 720p token.
    for allowed in ("video/720p/seg_00001.m4s", "audio/aac/seg_00001.m4s", "poster/poster_320.jpg"):
        assert httpx.get(f"{edge}/t/{basic}{ladder.folder}{allowed}", timeout=10).status_code == 200


def test_an_unlimited_token_still_gets_the_whole_ladder(stack: Settings, ladder: Ladder) -> None:
    master_url = urls_for(stack, ladder, None)["origin"]["hls"]
    playlist = m3u8.loads(httpx.get(master_url, timeout=10).text, uri=master_url)
    assert {p.stream_info.resolution[1] for p in playlist.playlists} == {360, 720, 1080}


def test_a_query_token_master_is_cut_too_and_kept_private(stack: Settings, ladder: Ladder) -> None:
    """The query-token mode of the CDNs that sign their own URLs (CloudFront, Cloudflare)."""
    token = token_of(urls_for(stack, ladder, "basic")["origin"]["hls"])
    param = stack.origin.token_param
    for name in ("master.m3u8", "manifest.mpd"):
        response = httpx.get(
            f"{stack.origin_url}{ladder.folder}{name}", params={param: token}, timeout=10
        )
        assert response.status_code == 200, response.text
        assert response.headers["Cache-Control"].startswith("private")
        assert "1080p" not in response.text and "720p" in response.text
    playlist = m3u8.loads(
        httpx.get(f"{stack.origin_url}{ladder.folder}master.m3u8", params={param: token},
                  timeout=10).text
    )  # fmt: skip
    assert all(p.uri.endswith(f"?{param}={token}") for p in playlist.playlists)
    refused = httpx.get(
        f"{stack.origin_url}{ladder.folder}video/1080p/init.mp4", params={param: token}, timeout=10
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "rendition_not_allowed"
