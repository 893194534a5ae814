"""The streaming service's settings: where it reaches the catalog, when a session ends, and
how long stream slots and signed-in playback URLs last."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from streamcore.settings import Settings, StreamingSettings
from streaming.catalog_client import CatalogClient, catalog_url


def test_the_catalog_is_reached_through_the_gateway_unless_named(settings: Settings) -> None:
    assert settings.streaming.catalog_url is None
    assert catalog_url(settings) == settings.gateway.entry_url
    direct = settings.model_copy(
        update={"streaming": StreamingSettings(catalog_url="http://catalog.internal:8100/")}
    )
    assert catalog_url(direct) == "http://catalog.internal:8100"


def test_a_catalog_url_must_be_http() -> None:
    with pytest.raises(ValidationError, match="must be an http:// or https:// URL"):
        StreamingSettings(catalog_url="catalog.internal:8100")


async def test_the_client_takes_its_breaker_and_address_from_the_settings(
    settings: Settings,
) -> None:
    client = CatalogClient.from_settings(settings)
    try:
        assert client.breaker.failure_threshold == settings.streaming.catalog_breaker_failures
        assert client.breaker.reset_s == settings.streaming.catalog_breaker_reset_s
        assert client.breaker.name == "catalog"
        assert client.base_url == settings.gateway.entry_url
    finally:
        await client.aclose()


def test_sessions_end_after_two_minutes_without_a_heartbeat_by_default() -> None:
    assert StreamingSettings().session_timeout_s == 120.0
    with pytest.raises(ValidationError):
        StreamingSettings(session_timeout_s=0)


def test_slots_expire_after_a_minute_and_signed_in_urls_after_five() -> None:
    section = StreamingSettings()
    assert (section.slot_timeout_s, section.heartbeat_s) == (60.0, 10)
    assert section.playback_token_ttl_s == 300
    with pytest.raises(
        ValidationError, match=r"heartbeat_s .* must be shorter than slot_timeout_s"
    ):
        StreamingSettings(slot_timeout_s=10, heartbeat_s=10)
    with pytest.raises(ValidationError):
        StreamingSettings(playback_token_ttl_s=0)
