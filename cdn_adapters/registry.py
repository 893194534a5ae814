"""The configured CDNs as adapters, in priority order, built from settings in one place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cdn_adapters.base import CdnAdapter
from cdn_adapters.local_edge import LocalEdgeAdapter
from streamcore.settings import CloudflareCdn, CloudFrontCdn, LocalEdgeCdn, Settings


def _cloudfront(settings: Settings, config: Any) -> CdnAdapter:
    from cdn_adapters.cloudfront import CloudFrontAdapter

    return CloudFrontAdapter.from_settings(config)


def _cloudflare(settings: Settings, config: Any) -> CdnAdapter:
    from cdn_adapters.cloudflare import CloudflareAdapter

    return CloudflareAdapter.from_settings(config)


BUILDERS: dict[type, Callable[[Settings, Any], CdnAdapter]] = {
    CloudFrontCdn: _cloudfront,
    CloudflareCdn: _cloudflare,
    LocalEdgeCdn: LocalEdgeAdapter,
}


def build_adapters(settings: Settings) -> list[CdnAdapter]:
    return [BUILDERS[type(config)](settings, config) for config in settings.cdns]


def adapter_named(settings: Settings, name: str) -> CdnAdapter:
    for adapter in build_adapters(settings):
        if adapter.name == name:
            return adapter
    known = ", ".join(c.name for c in settings.cdns) or "none configured"
    raise KeyError(f"no CDN named {name!r} (configured: {known})")
