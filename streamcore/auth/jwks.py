"""Where a service finds the keys that sign access tokens.

The auth service reads its own (`LocalKeys`). Every other service fetches the auth service's
JWKS over HTTP (`RemoteKeys`), keeps it for ``auth.jwks_cache_s``, and fetches it again when a
token names a kid it does not know (a key that was just rotated in), at most once every
``auth.jwks_min_refetch_s``. PyJWT's own `PyJWKClient` does this with blocking urllib calls on
the event loop, so the few lines of fetching and caching are written here, on aiohttp.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from streamcore.auth.keys import from_jwks, public_keys
from streamcore.settings import Settings

log = logging.getLogger(__name__)


class KeysUnavailable(Exception):
    """The JWKS cannot be fetched and no copy of it is at hand."""


class KeySource(Protocol):
    async def keys(self, *, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        """The signing keys by kid; `refresh` asks for a fresh copy (an unknown kid)."""
        ...


class LocalKeys:
    """The auth service's own keys, from its settings."""

    def __init__(self, settings: Settings) -> None:
        self._keys = public_keys(settings.auth.signing_keys)

    async def keys(self, *, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        return self._keys


class RemoteKeys:
    """The auth service's JWKS, fetched over HTTP and cached."""

    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self._url = settings.jwks_url
        self._ttl_s = settings.auth.jwks_cache_s
        self._min_refetch_s = settings.auth.jwks_min_refetch_s
        self._session = session
        self._keys: dict[str, Ed25519PublicKey] | None = None
        self._fetched_at = float("-inf")
        self._failed_at = float("-inf")
        self._lock = asyncio.Lock()

    def _due(self, refresh: bool) -> bool:
        now = time.monotonic()
        if self._keys is None:
            return now - self._failed_at >= min(self._min_refetch_s, 1.0)
        age = now - self._fetched_at
        return age >= self._ttl_s or (refresh and age >= self._min_refetch_s)

    async def keys(self, *, refresh: bool = False) -> dict[str, Ed25519PublicKey]:
        if self._due(refresh):
            async with self._lock:  # one fetch at a time; the others take its result
                if self._due(refresh):
                    await self._fetch()
        if self._keys is None:
            raise KeysUnavailable(f"the token keys could not be fetched from {self._url}")
        return self._keys

    async def _fetch(self) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=3)
            async with self._session.get(self._url, timeout=timeout) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # A stale copy beats none (keys are long-lived, and rotation keeps old ones): it is
            # kept, and the fetch tried again after jwks_min_refetch_s.
            log.warning("JWKS fetch from %s failed: %s", self._url, exc)
            now = time.monotonic()
            self._failed_at = now
            if self._keys is not None:
                self._fetched_at = now - self._ttl_s + self._min_refetch_s
            return
        self._keys = from_jwks(document)
        self._fetched_at = time.monotonic()
