"""How services learn an account's entitlement: they ask the subscriptions service over HTTP.

``GET /v1/entitlements/{account_id}`` (the subscriptions service's; a service account's key
as the credential, which holds MANAGE_SUBSCRIPTIONS) answers what the account's plan grants
now (`streamcore.entitlements.Entitlement`). Used by the catalog (premium titles marked
locked) and the streaming service (premium titles refused, the plan's stream slots and
highest rendition).

- Each answer is remembered ``subscriptions.entitlements_cache_s`` (5 s) per process, and
  concurrent lookups of one account share one call. A caller about to *refuse* asks again
  with ``fresh=True``: an account that has just subscribed is never refused from the cache,
  while one whose access was just removed keeps it at most that long (within the playback
  token's lifetime, so removing access still ends playback in time).
- Each call is bounded by ``subscriptions.entitlements_timeout_s`` and guarded by the kernel's
  circuit breaker. When the service cannot answer, the last answer seen in the past
  ``STALE_S`` is used (and logged); with none, a 503 with Retry-After.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from uuid import UUID

import httpx
from pydantic import ValidationError

from streamcore.cache.breaker import BreakerState, CircuitBreaker
from streamcore.cache.lru import LocalLRU
from streamcore.cache.singleflight import SingleFlight
from streamcore.entitlements import Entitlement
from streamcore.settings import Settings
from streamcore.web.service import ServiceUnavailable

log = logging.getLogger(__name__)

MAX_CACHED_ACCOUNTS = 50_000
# How old an answer may be and still stand in for a subscriptions service that is down.
STALE_S = 300.0


class EntitlementsUnavailable(ServiceUnavailable):
    """The subscriptions service did not answer, and no recent answer is known: 503."""


class EntitlementsClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_s: float,
        breaker: CircuitBreaker,
        cache_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )
        self._cache: LocalLRU[Entitlement] = LocalLRU(MAX_CACHED_ACCOUNTS, clock)
        self._flights: SingleFlight[Entitlement] = SingleFlight()
        self._cache_s = cache_s

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        on_transition: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> EntitlementsClient:
        section, keys = settings.subscriptions, list(settings.auth.service_accounts.values())
        breaker = CircuitBreaker(
            section.entitlements_breaker_failures, section.entitlements_breaker_reset_s,
            on_transition=on_transition, name="entitlements",
        )  # fmt: skip
        return cls(
            settings.entitlements_url,
            keys[0].key.get_secret_value() if keys else None,
            timeout_s=section.entitlements_timeout_s,
            breaker=breaker,
            cache_s=section.entitlements_cache_s,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def entitlement(self, account_id: UUID, *, fresh: bool = False) -> Entitlement:
        """The account's entitlement now (`fresh`: asked whatever the cache holds)."""
        key = str(account_id)
        if not fresh and (cached := self._cache.get_fresh(key)) is not None:
            return cached
        found, _ = await self._flights.run(key, lambda: self._fetch(account_id))
        return found

    async def _fetch(self, account_id: UUID) -> Entitlement:
        try:
            entitlement = await self._ask(account_id)
        except EntitlementsUnavailable:
            if (stale := self._cache.get_stale(str(account_id))) is not None:
                log.warning("entitlements: %s: using the last known answer", account_id)
                return stale
            raise
        self._cache.put(str(account_id), entitlement, self._cache_s, STALE_S)
        return entitlement

    async def _ask(self, account_id: UUID) -> Entitlement:
        if not self.breaker.allow():
            raise self._unavailable("the subscriptions service keeps failing")
        try:
            response = await self._http.get(f"/v1/entitlements/{account_id}")
        except httpx.HTTPError as exc:
            self.breaker.record_failure()
            log.warning("entitlements %s: %s: %r", self.base_url, account_id, exc)
            raise self._unavailable(
                f"the subscriptions service did not answer ({type(exc).__name__})"
            ) from None
        try:
            response.raise_for_status()
            entitlement = Entitlement.model_validate_json(response.content)
        except (httpx.HTTPStatusError, ValidationError) as exc:
            self.breaker.record_failure()
            log.error("entitlements %s: %s: unusable answer: %s", self.base_url, account_id, exc)
            raise self._unavailable(
                f"the subscriptions service gave no usable answer (HTTP {response.status_code})"
            ) from None
        self.breaker.record_success()
        return entitlement

    def _unavailable(self, reason: str) -> EntitlementsUnavailable:
        retry_after = max(1, math.ceil(self.breaker.reset_s))
        return EntitlementsUnavailable(
            f"{reason}; retry shortly", headers={"Retry-After": str(retry_after)}
        )
