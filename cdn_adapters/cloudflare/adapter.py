"""The CdnAdapter for Cloudflare: URLs signed by signing.py, purges through the official SDK.

Folders are purged by prefix and files by URL, each cut to Cloudflare's per-request limits;
429s are retried after Retry-After, bounded. Cloudflare applies a purge when it accepts it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import cloudflare
import stamina
from cloudflare import AsyncCloudflare

from cdn_adapters.base import CdnError, PurgeResult, PurgeState, TokenMode, check_path
from cdn_adapters.cloudflare.errors import RateLimited, translate
from cdn_adapters.cloudflare.signing import (
    DEFAULT_QUERY_PARAM,
    DEFAULT_RULE_TTL_S,
    KEY_PLACEHOLDER,
    SCOPE_LENGTHS,
    UrlSigner,
)

if TYPE_CHECKING:
    from cdn_adapters.base import CdnAdapter
    from streamcore.settings import CloudflareCdn

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"
# Cloudflare takes at most 30 prefixes per purge request (purge by prefix, "Limitations").
MAX_PREFIXES_PER_REQUEST = 30
MAX_RATE_LIMIT_RETRIES = 4
RETRY_AFTER_CAP_S = 60.0
_REMEMBERED_PURGES = 256


class CloudflareAdapter:
    """Build with `from_settings`. See docs/cdn.md for the rule and the zone setup."""

    # Its own signature in the query; our token goes beside it.
    token_mode: ClassVar[TokenMode] = TokenMode.QUERY

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        zone_id: str,
        api_token: str,
        hmac_secret: bytes,
        token_param: str = DEFAULT_QUERY_PARAM,
        api_base_url: str = DEFAULT_API_BASE_URL,
        purge_batch_size: int = 30,
        rule_ttl_s: int = DEFAULT_RULE_TTL_S,
        scope_lengths: Sequence[int] = SCOPE_LENGTHS,
        max_rate_limit_retries: int = MAX_RATE_LIMIT_RETRIES,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= purge_batch_size <= 100:
            raise ValueError(f"purge_batch_size must be 1 to 100: {purge_batch_size}")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            # The rule reads http.request.uri.path: our paths must be the whole path.
            raise ValueError(f"base_url must be scheme://host[:port] and no path: {base_url!r}")
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._host_prefix = self._base_url.split("://", 1)[-1]
        self._urls = UrlSigner(
            base_url=self._base_url,
            hmac_secret=hmac_secret,
            token_param=token_param,
            rule_ttl_s=rule_ttl_s,
            scope_lengths=scope_lengths,
            clock=clock,
        )
        self._zone_id = zone_id
        self._api_token = api_token
        self._api_base_url = api_base_url
        self._batch = purge_batch_size
        self._max_retries = max_rate_limit_retries
        self._retry_after_cap_s = retry_after_cap_s
        self._clock = clock
        self._results: OrderedDict[str, PurgeResult] = OrderedDict()

    @classmethod
    def from_settings(
        cls,
        cfg: CloudflareCdn,
        *,
        rule_ttl_s: int = DEFAULT_RULE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> CloudflareAdapter:
        return cls(
            name=cfg.name,
            base_url=cfg.base_url,
            zone_id=cfg.zone_id,
            api_token=cfg.api_token.get_secret_value(),
            hmac_secret=cfg.hmac_secret.get_secret_value().encode(),
            token_param=cfg.token_param,
            api_base_url=cfg.api_base_url or DEFAULT_API_BASE_URL,
            purge_batch_size=cfg.purge_batch_size,
            rule_ttl_s=rule_ttl_s,
            clock=clock,
        )

    def asset_url(self, path: str) -> str:
        check_path(path)
        return f"{self._base_url}{path}"

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        """See `UrlSigner.signed_url`: a token the rule accepts for `ttl_s`, for `scope` too."""
        return self._urls.signed_url(path, ttl_s=ttl_s, scope=scope, client_ip=client_ip)

    def verify(self, url: str, *, now: int | None = None) -> bool:
        """Whether the HMAC checks of `rule_expression()` let `url` through (tests, debugging)."""
        return self._urls.verify(url, now=now)

    def rule_expression(self, key: str = KEY_PLACEHOLDER) -> str:
        return self._urls.rule_expression(key)

    async def purge(self, paths: Sequence[str], *, reference: str) -> PurgeResult:
        """Prefix purges for folders, URL purges for files, each cut to Cloudflare's limits."""
        tag = _digest(reference)
        folders, files = _targets(paths)
        requests = [
            ("prefixes", [self._host_prefix + folder for folder in chunk])
            for chunk in _chunked(folders, min(self._batch, MAX_PREFIXES_PER_REQUEST))
        ] + [
            ("files", [self._base_url + file for file in chunk])
            for chunk in _chunked(files, self._batch)
        ]
        ids: list[str] = []
        async with self._client() as client:
            for kind, items in requests:
                ids.append(await self._send(client, kind, items))
        unique = tuple(dict.fromkeys(id_ for id_ in ids if id_))
        purge_id = f"{self.name}:{self._zone_id}:{tag}:{','.join(unique)}"
        result = PurgeResult(
            cdn=self.name,
            purge_id=purge_id,
            state=PurgeState.COMPLETED,
            paths=(*folders, *files),
            provider_ids=unique,
            detail=f"{len(requests)} purge request(s) accepted",
        )
        logger.info("Cloudflare purge %s: %s", reference, result.detail)
        self._remember(result)
        return result

    async def purge_status(self, purge_id: str) -> PurgeResult:
        """Cloudflare applies a purge when it accepts it: any id this adapter made is complete."""
        name, zone_id, _, ids = [*purge_id.split(":", 3), "", "", ""][:4]
        if name != self.name or zone_id != self._zone_id:
            raise CdnError(
                f"not a purge id of CDN {self.name!r} (zone {self._zone_id}): {purge_id!r}"
            )
        known = self._results.get(purge_id)
        if known is not None:
            return known
        return PurgeResult(
            cdn=self.name,
            purge_id=purge_id,
            state=PurgeState.COMPLETED,
            paths=(),
            provider_ids=tuple(id_ for id_ in ids.split(",") if id_),
            detail="applied when Cloudflare accepted it (paths are kept by the purging process)",
        )

    # -- internals --

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[AsyncCloudflare]:
        # The SDK's own retries are off: 429s are retried below, after Retry-After, so that
        # the waits are ours, bounded and testable.
        client = AsyncCloudflare(
            api_token=self._api_token, base_url=self._api_base_url, max_retries=0, timeout=30.0
        )
        # The SDK falls back to CLOUDFLARE_API_KEY / CLOUDFLARE_EMAIL from the environment and
        # would send those instead of the token: only the configured token is ever used.
        client.api_key = client.api_email = client.user_service_key = None
        async with client:
            yield client

    async def _send(self, client: AsyncCloudflare, kind: str, items: list[str]) -> str:
        async for attempt in stamina.retry_context(
            on=self._retry_wait,
            attempts=self._max_retries + 1,
            timeout=None,
            wait_initial=1.0,
            wait_max=self._retry_after_cap_s,
            wait_jitter=1.0,
        ):
            with attempt:
                return await self._post(client, kind, items)
        raise AssertionError("unreachable: stamina re-raises the last error")

    def _retry_wait(self, exc: BaseException) -> bool | float:
        """Retry only 429s: after Retry-After when given (and not too long), else back off."""
        if not isinstance(exc, RateLimited):
            return False
        if exc.retry_after_s is None:
            return True
        return exc.retry_after_s if exc.retry_after_s <= self._retry_after_cap_s else False

    async def _post(self, client: AsyncCloudflare, kind: str, items: list[str]) -> str:
        what = f"purge of {len(items)} {kind}"
        try:
            if kind == "prefixes":
                response = await client.cache.purge(zone_id=self._zone_id, prefixes=items)
            else:
                response = await client.cache.purge(zone_id=self._zone_id, files=items)
        except cloudflare.APIError as exc:
            raise translate(exc, what, zone_id=self._zone_id, clock=self._clock) from exc
        return response.id if response is not None else ""

    def _remember(self, result: PurgeResult) -> None:
        self._results[result.purge_id] = result
        while len(self._results) > _REMEMBERED_PURGES:
            self._results.popitem(last=False)


def _targets(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Folders and files to purge, sorted, without anything a purged folder already covers."""
    for path in paths:
        check_path(path)
    folders = {path for path in paths if path.endswith("/")}
    folders = {f for f in folders if not any(f != o and f.startswith(o) for o in folders)}
    files = {p for p in paths if not p.endswith("/") and not any(map(p.startswith, folders))}
    return sorted(folders), sorted(files)


def _chunked(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _digest(reference: str) -> str:
    if not reference:
        raise ValueError("a purge needs a non-empty reference")
    return hashlib.sha256(reference.encode()).hexdigest()[:12]


if TYPE_CHECKING:

    def _implements_the_protocol(adapter: CloudflareAdapter) -> CdnAdapter:
        return adapter
