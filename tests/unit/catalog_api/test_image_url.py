"""Image URLs: through the primary CDN, signed for the title's folder, the same all hour."""

from __future__ import annotations

from urllib.parse import urlsplit
from uuid import UUID

from aiohttp import web

from catalog_api.locks import UNLOCKED, Locks
from catalog_api.resources import IMAGE_URLS_KEY
from catalog_api.titles.views import Presenter, image_scope
from cdn_adapters.playback import ImageUrls, image_url
from cdn_adapters.registry import build_adapters
from streamcore import entitlements, signing
from streamcore.assets.keys import asset_image_paths
from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY

POSTER = "/titles/5b1f6e2c-9d7a-4c3e-8f1a-2b6d0e9c7a41/0123456789ab/poster.jpg"
THUMB = POSTER.replace("poster.jpg", "thumb.jpg")
HOUR = 3600
NOON = 1_800_000_000 - 1_800_000_000 % HOUR


def token_of(url: str) -> str:
    return urlsplit(url).path.split("/")[2]


def test_urls_are_identical_within_the_hour_and_expire_on_an_hour(settings: Settings) -> None:
    adapters = build_adapters(settings)
    scope = image_scope(POSTER)
    urls = {
        image_url(settings, adapters, POSTER, ttl_s=6 * HOUR, scope=scope, now=NOON + offset)
        for offset in (1, 600, HOUR - 1)
    }
    assert len(urls) == 1
    url = urls.pop()
    assert url.startswith("http://127.0.0.1:18082/t/") and url.endswith(POSTER)
    grant = signing.verify(token_of(url), THUMB, settings.origin.signing_keys, now=NOON)
    assert grant.scope == "/titles/5b1f6e2c-9d7a-4c3e-8f1a-2b6d0e9c7a41/"
    assert grant.expires == NOON + 7 * HOUR  # at least the ttl from any moment of the hour
    later = image_url(settings, adapters, POSTER, ttl_s=6 * HOUR, scope=scope, now=NOON + HOUR + 1)
    assert later != url


def test_without_a_cdn_the_origin_serves_images(settings: Settings) -> None:
    url = image_url(settings, [], POSTER, ttl_s=60, now=NOON + 5)
    assert url.startswith(settings.origin_url + "/t/")
    grant = signing.verify(token_of(url), POSTER, settings.origin.signing_keys, now=NOON)
    assert grant.scope == POSTER and grant.expires == NOON + HOUR


def test_an_asset_lends_its_widest_and_narrowest_jpeg_posters() -> None:
    images = {"posters": ["poster/poster_320.jpg", "poster/poster_1280.jpg",
                          "poster/poster_640.webp", "poster/poster_640.jpg"]}  # fmt: skip
    asset = "5b1f6e2c-9d7a-4c3e-8f1a-2b6d0e9c7a41"
    paths = asset_image_paths(UUID(asset), 3, images)
    assert paths == {"poster": f"/assets/{asset}/v3/poster/poster_1280.jpg",
                     "thumbnail": f"/assets/{asset}/v3/poster/poster_320.jpg"}  # fmt: skip
    assert image_scope(paths["poster"]) == f"/assets/{asset}/v3/"
    assert asset_image_paths(UUID(asset), 0, images) == {}
    assert asset_image_paths(UUID(asset), 2, {}) == {}


def presenter_app(settings: Settings) -> web.Application:
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app[IMAGE_URLS_KEY] = ImageUrls(settings, build_adapters(settings), 100)
    return app


def test_a_presentation_changes_only_with_its_variant(settings: Settings) -> None:
    """Handlers keep a presentation per variant: equal variants must present alike."""
    app = presenter_app(settings)
    document = {"id": "5b1f6e2c-9d7a-4c3e-8f1a-2b6d0e9c7a41", "access": "premium",
                "image_paths": {"poster": POSTER, "thumbnail": THUMB}}  # fmt: skip
    free = Locks(entitlements.free(settings))
    seen: dict[object, dict[str, object]] = {}
    # The moments around the hour the URLs' expiry moves to the next one.
    boundary = NOON + 2 * HOUR - settings.origin.playback_ttl_s % HOUR
    for locks in (UNLOCKED, free):
        for now in (NOON + 1, boundary - 1, boundary, boundary + 1, boundary + HOUR):
            presenter = Presenter(app, locks, now=now)
            presented = presenter.title(document)
            assert seen.setdefault(presenter.variant(), presented) == presented
    assert len(seen) == 2 * 3  # locked or not, times three expiries
    assert {p["locked"] for p in seen.values()} == {True, False}
    # Kept URLs are those image_url signs at that moment.
    moment = boundary + 1
    url = image_url(
        settings, build_adapters(settings), POSTER, ttl_s=600, scope="/titles/", now=moment
    )
    assert app[IMAGE_URLS_KEY].url(POSTER, ttl_s=600, scope="/titles/", now=moment - 1) == url
