"""The streaming service's one way to the auth service: what a profile is, asked over HTTP.

``GET /v1/admin/profiles/{id}`` (auth's; the first service account key as the credential)
answers a profile's account, maturity level and the genres it picked. Recommendations need
them for a profile other than the caller's own (an admin's read) and, for anyone, the picked
genres of a profile without history. Answers are kept ``CACHE_S``; each call is bounded and
guarded by the kernel's circuit breaker; auth that cannot answer is a 503 with Retry-After.
"""

from __future__ import annotations

import logging
import math
import time
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from streamcore.cache.breaker import CircuitBreaker
from streamcore.cache.lru import LocalLRU
from streamcore.cache.singleflight import SingleFlight
from streamcore.settings import Settings
from streamcore.web.service import ServiceUnavailable

log = logging.getLogger(__name__)

CACHE_S = 30.0
MAX_CACHED = 50_000


class Profile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: UUID
    account_id: UUID
    maturity: str
    genres: list[str] = []


class AuthUnavailable(ServiceUnavailable):
    """The auth service did not answer, or its breaker is open: 503, retried."""


class ProfilesClient:
    def __init__(
        self, base_url: str, api_key: str | None, *, timeout_s: float, breaker: CircuitBreaker
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self._http = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )  # fmt: skip
        self._cache: LocalLRU[Profile] = LocalLRU(MAX_CACHED, time.monotonic)
        self._flights: SingleFlight[Profile | None] = SingleFlight()

    @classmethod
    def from_settings(cls, settings: Settings) -> ProfilesClient:
        section, keys = settings.streaming, list(settings.auth.service_accounts.values())
        breaker = CircuitBreaker(
            section.catalog_breaker_failures, section.catalog_breaker_reset_s, name="auth"
        )
        return cls(
            settings.gateway.entry_url, keys[0].key.get_secret_value() if keys else None,
            timeout_s=section.catalog_timeout_s, breaker=breaker,
        )  # fmt: skip

    async def aclose(self) -> None:
        await self._http.aclose()

    async def profile(self, profile_id: UUID) -> Profile | None:
        """The profile, or None if auth has none by that id."""
        key = str(profile_id)
        if (cached := self._cache.get_fresh(key)) is not None:
            return cached
        found, _ = await self._flights.run(key, lambda: self._fetch(profile_id))
        return found

    async def _fetch(self, profile_id: UUID) -> Profile | None:
        if not self.breaker.allow():
            raise self._unavailable("the auth service keeps failing, so it is not asked for now")
        try:
            response = await self._http.get(f"/v1/admin/profiles/{profile_id}")
        except httpx.HTTPError as exc:
            self.breaker.record_failure()
            log.warning("auth %s: profile %s: %r", self.base_url, profile_id, exc)
            reason = f"the auth service did not answer ({type(exc).__name__})"
            raise self._unavailable(reason) from None
        if response.status_code == 404:
            self.breaker.record_success()
            return None
        try:
            response.raise_for_status()
            profile = Profile.model_validate_json(response.content)
        except (httpx.HTTPStatusError, ValidationError) as exc:
            self.breaker.record_failure()
            log.error("auth %s: profile %s: unusable answer: %s", self.base_url, profile_id, exc)
            raise self._unavailable(
                f"the auth service gave no usable answer (HTTP {response.status_code})"
            ) from None
        self.breaker.record_success()
        self._cache.put(str(profile_id), profile, CACHE_S, CACHE_S)
        return profile

    def _unavailable(self, reason: str) -> AuthUnavailable:
        retry_after = max(1, math.ceil(self.breaker.reset_s))
        return AuthUnavailable(
            f"{reason}; retry shortly", headers={"Retry-After": str(retry_after)}
        )
