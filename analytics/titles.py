"""Which title an asset is the main video of, as the catalog says (``GET /v1/assets/{id}``,
its ``main_title``), for the processor to key the rollups' `title` dimension by title.

Best effort by design: the catalog is asked with the admin service key, each call bounded by
a short timeout, and each answer (a title, or none) remembered ``TTL_S`` in this process.
When the catalog cannot answer, the events are stored without a title id and the rollups key
them by their asset id (``coalesce(title_id, asset_id)``); the intake never waits on it.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import httpx

from streamcore.cache.lru import LocalLRU
from streamcore.settings import Settings

log = logging.getLogger(__name__)

TTL_S = 300.0
# A catalog that did not answer is not asked again about that asset for this long.
FAILED_TTL_S = 30.0
TIMEOUT_S = 2.0
MAX_ASSETS = 20_000
_NONE = ""  # the cached answer "no title": LocalLRU's None means "not cached"


class TitleResolver:
    def __init__(self, base_url: str, api_key: str | None) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(TIMEOUT_S),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )  # fmt: skip
        self._cache: LocalLRU[str] = LocalLRU(MAX_ASSETS)

    @classmethod
    def from_settings(cls, settings: Settings) -> TitleResolver:
        accounts = list(settings.auth.service_accounts.values())
        key = accounts[0].key.get_secret_value() if accounts else None
        return cls(settings.api_url, key)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _ask(self, asset_id: UUID) -> UUID | None:
        key = str(asset_id)
        try:
            response = await self._http.get(f"/v1/assets/{asset_id}")
            found = response.json().get("main_title") if response.status_code == 200 else None
            title = str(found["id"]) if isinstance(found, dict) and "id" in found else _NONE
            ttl = TTL_S if response.status_code in (200, 404) else FAILED_TTL_S
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("analytics: the catalog did not say asset %s's title (%s)", key, exc)
            title, ttl = _NONE, FAILED_TTL_S
        self._cache.put(key, title, ttl, ttl)
        return UUID(title) if title else None

    async def titles(self, assets: set[UUID]) -> dict[UUID, UUID | None]:
        """Each asset's title id (None: none, or the catalog could not say)."""
        known: dict[UUID, UUID | None] = {}
        unknown = []
        for asset in assets:
            cached = self._cache.get_fresh(str(asset))
            if cached is None:
                unknown.append(asset)
            else:
                known[asset] = UUID(cached) if cached else None
        answers = await asyncio.gather(*(self._ask(asset) for asset in unknown))
        known.update(zip(unknown, answers, strict=True))
        return known
