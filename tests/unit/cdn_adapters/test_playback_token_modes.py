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
