"""Each adapter declares where our token goes; playback URLs follow the declaration."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

from cdn_adapters.base import TokenMode
from cdn_adapters.cloudflare import CloudflareAdapter
from cdn_adapters.playback import image_url, sources
from cdn_adapters.registry import build_adapters
from streamcore import signing
from streamcore.settings import CloudflareCdn, Settings

ASSET = uuid.UUID("3f2c0b5e-7a41-4c1e-9d7e-5b8f1e2a9c10")
SCOPE = f"/assets/{ASSET}/v2/"


def _cloudflare() -> CloudflareAdapter:
    return CloudflareAdapter.from_settings(
        CloudflareCdn(
            kind="cloudflare", name="cf", base_url="https://media.example.com",
            zone_id="023e105f4ecef8ad9ca31a8372d0c353", api_token="t", hmac_secret="s",
        )
    )  # fmt: skip


def test_path_token_cdns_carry_it_in_the_path_query_token_cdns_in_the_query(
    settings: Settings,
) -> None:
    edge, cloudflare = build_adapters(settings)[0], _cloudflare()
    assert (edge.token_mode, cloudflare.token_mode) == (TokenMode.PATH, TokenMode.QUERY)
    images = {"posters": ["poster/poster_320.jpg", "poster/poster_1280.jpg"]}
    body = sources(settings, [edge, cloudflare], ASSET, 2, ttl_s=600, images=images)
    by_name = {source["name"]: source for source in body["sources"]}
    keys = settings.origin.signing_keys

    edge_url = urlsplit(by_name["edge"]["hls"])
    assert edge_url.path.startswith("/t/") and edge_url.path.endswith(f"{SCOPE}master.m3u8")
    assert signing.verify(edge_url.path.split("/")[2], SCOPE + "master.m3u8", keys)

    for kind, name in (("dash", "manifest.mpd"), ("poster", "poster/poster_1280.jpg")):
        query_url = urlsplit(by_name["cf"][kind])
        assert query_url.path == SCOPE + name, by_name["cf"]
        query = parse_qs(query_url.query)
        assert signing.verify(query[settings.origin.token_param][0], SCOPE + name, keys)
        assert "verify" in query  # Cloudflare's own signature, beside ours


def test_images_through_a_query_token_cdn_carry_the_token_in_the_query(
    settings: Settings,
) -> None:
    path = f"{SCOPE}poster/poster_1280.jpg"
    url = urlsplit(image_url(settings, [_cloudflare()], path, ttl_s=600, scope=SCOPE))
    assert url.path == path
    token = parse_qs(url.query)[settings.origin.token_param][0]
    assert signing.verify(token, f"{SCOPE}thumb.jpg", settings.origin.signing_keys)


def _grant_id(body: dict[str, object], settings: Settings) -> str | None:
    origin = next(s for s in body["sources"] if s["name"] == "origin")  # type: ignore[attr-defined]
    grant = signing.grant_of(
        origin["hls"].split("/t/", 1)[1].split("/", 1)[0], settings.origin.signing_keys
    )
    assert grant is not None
    return grant.grant_id


def test_each_grant_names_its_stream_slot(settings: Settings) -> None:
    # A session's renewed URLs keep its slot (one media budget); any other playback gets its own.
    session = sources(settings, [], ASSET, 2, ttl_s=600, slot="0f1e2d3c")
    renewed = sources(settings, [], ASSET, 2, ttl_s=600, slot="0f1e2d3c")
    assert _grant_id(session, settings) == _grant_id(renewed, settings) == "0f1e2d3c"
    loose = {_grant_id(sources(settings, [], ASSET, 2, ttl_s=600), settings) for _ in range(3)}
    assert len(loose) == 3 and None not in loose
