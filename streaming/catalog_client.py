"""The streaming service's one way to the catalog: what an asset is, asked over HTTP.

Streaming never reads the catalog's tables (its pools see only its own schema,
streamcore/db/schemas.py): it asks the catalog's API, ``GET /v1/assets/{id}``, with the first
service account key (auth.service_accounts) as its credential. Each call is bounded by
``streaming.catalog_timeout_s`` and guarded by the kernel's circuit breaker
(``streaming.catalog_breaker_*``): once the catalog keeps failing, requests get a 503 at once
rather than each waiting out the timeout, until a probe finds it answering again.

Assets it described are kept for ``streaming.asset_cache_ttl_s``, so that a playing session's
progress reports do not each call it; concurrent lookups of one asset share one call. An
unknown asset is not kept: it may be created the next moment. Playback authorisation asks
afresh (`fresh=True`): a reprocess switches the published version and deletes the old one, whose
URLs must not be handed out from the cache.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from streamcore.assets.states import AssetStatus
from streamcore.cache.breaker import BreakerState, CircuitBreaker
from streamcore.cache.lru import LocalLRU
from streamcore.cache.singleflight import SingleFlight
from streamcore.entitlements import Access
from streamcore.settings import Settings
from streamcore.web.service import ServiceUnavailable

log = logging.getLogger(__name__)

# Assets remembered at once (each a few hundred bytes); beyond it the least recent go.
MAX_CACHED_ASSETS = 10_000
# Titles per page when listing them all (the catalog's largest page).
TITLE_PAGE = 100


class MainTitle(BaseModel):
    """The title an asset is the main video of (the catalog's `main_title`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID
    kind: str = "movie"
    series_id: UUID | None = None
    runtime_min: int | None = None


class CatalogAsset(BaseModel):
    """What streaming needs of an asset (the catalog's answer has more; the rest is ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID
    status: AssetStatus
    version: int
    images: dict[str, Any]
    # The most restrictive certification of the titles the asset belongs to; None (no title
    # has one, or a catalog from before certifications, which sends no such field) counts as
    # adult (streamcore/auth/maturity.py).
    certification: str | None = None
    # Who may play it (premium when any of its titles is; a catalog from before access
    # levels sends none: free), and its ladder ({name, height, ...}, lowest first), from
    # which a viewer's plan opens those at or below its highest rendition
    # (streaming/entitlement.py).
    access: Access = Access.FREE
    renditions: list[dict[str, Any]] = Field(default_factory=list)
    # What watch history counts a viewing of (streaming/history/): None for trailers, extras
    # and assets no title links, which have progress but no history.
    main_title: MainTitle | None = None


class CatalogUnavailable(ServiceUnavailable):
    """The catalog did not answer, answered an error, or its breaker is open: 503, retried."""


def catalog_url(settings: Settings) -> str:
    """Where the catalog is reached: its own URL if set, else through the gateway."""
    return settings.streaming.catalog_url or settings.gateway.entry_url


class CatalogClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_s: float,
        breaker: CircuitBreaker,
        cache_ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )
        self._cache: LocalLRU[CatalogAsset] = LocalLRU(MAX_CACHED_ASSETS, clock)
        self._flights: SingleFlight[CatalogAsset | None] = SingleFlight()
        self._titles: LocalLRU[dict[str, Any]] = LocalLRU(MAX_CACHED_ASSETS, clock)
        self._title_flights: SingleFlight[dict[str, Any] | None] = SingleFlight()
        self._cache_ttl_s = cache_ttl_s

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        on_transition: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> CatalogClient:
        section, keys = settings.streaming, list(settings.auth.service_accounts.values())
        breaker = CircuitBreaker(
            section.catalog_breaker_failures, section.catalog_breaker_reset_s,
            on_transition=on_transition, name="catalog",
        )  # fmt: skip
        return cls(
            catalog_url(settings),
            keys[0].key.get_secret_value() if keys else None,
            timeout_s=section.catalog_timeout_s,
            breaker=breaker,
            cache_ttl_s=section.asset_cache_ttl_s,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def asset(self, asset_id: UUID, *, fresh: bool = False) -> CatalogAsset | None:
        """The asset, or None if the catalog has none by that id; CatalogUnavailable if it
        cannot say. `fresh`: ask the catalog, whatever the cache holds."""
        key = str(asset_id)
        if not fresh and (cached := self._cache.get_fresh(key)) is not None:
            return cached
        found, _ = await self._flights.run(key, lambda: self._fetch(asset_id))
        return found

    async def _fetch(self, asset_id: UUID) -> CatalogAsset | None:
        body = await self._get_json(f"/v1/assets/{asset_id}", what=f"asset {asset_id}")
        if body is None:
            return None
        try:
            asset = CatalogAsset.model_validate(body)
        except ValidationError as exc:
            self.breaker.record_failure()
            log.error("catalog %s: asset %s: unusable answer: %s", self.base_url, asset_id, exc)
            raise self._unavailable("the catalog gave no usable answer") from None
        self._cache.put(str(asset_id), asset, self._cache_ttl_s, self._cache_ttl_s)
        return asset

    async def title(self, title_id: UUID) -> dict[str, Any] | None:
        """A title's document (a series with its episodes, a title with its assets), as an
        admin sees it (every certification: the caller filters); None if there is none."""
        key = str(title_id)
        if (cached := self._titles.get_fresh(key)) is not None:
            return cached
        found, _ = await self._title_flights.run(key, lambda: self._title(title_id))
        return found

    async def _title(self, title_id: UUID) -> dict[str, Any] | None:
        document = await self._get_json(f"/v1/titles/{title_id}", what=f"title {title_id}")
        if document is not None:
            self._titles.put(str(title_id), document, self._cache_ttl_s, self._cache_ttl_s)
        return document

    async def titles(self) -> list[dict[str, Any]]:
        """Every film and series the catalog has (not episodes), page by page."""
        found: list[dict[str, Any]] = []
        params: dict[str, str | int] = {"limit": TITLE_PAGE}
        while True:
            page = await self._get_json("/v1/titles", params=params, what="titles")
            if page is None:
                raise self._unavailable("the catalog has no title list")
            found.extend(page["items"])
            if not page.get("next_cursor"):
                return found
            params = {"limit": TITLE_PAGE, "cursor": page["next_cursor"]}

    async def _get_json(
        self, path: str, *, params: dict[str, str | int] | None = None, what: str
    ) -> Any:
        """The catalog's JSON answer at `path`; None for a 404; CatalogUnavailable otherwise."""
        if not self.breaker.allow():
            raise self._unavailable("the catalog keeps failing, so it is not asked for a while")
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as exc:
            self.breaker.record_failure()
            log.warning("catalog %s: %s: %r", self.base_url, what, exc)
            raise self._unavailable(f"the catalog did not answer ({type(exc).__name__})") from None
        if response.status_code == 404:
            self.breaker.record_success()
            return None
        try:
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPStatusError, ValueError) as exc:
            self.breaker.record_failure()
            log.error("catalog %s: %s: unusable answer: %s", self.base_url, what, exc)
            raise self._unavailable(
                f"the catalog gave no usable answer (HTTP {response.status_code})"
            ) from None
        self.breaker.record_success()
        return body

    def _unavailable(self, reason: str) -> CatalogUnavailable:
        retry_after = max(1, math.ceil(self.breaker.reset_s))
        return CatalogUnavailable(
            f"{reason}; retry shortly", headers={"Retry-After": str(retry_after)}
        )
