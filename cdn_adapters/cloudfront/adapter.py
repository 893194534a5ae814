"""The CdnAdapter for Amazon CloudFront: signing in signing.py, purges as invalidations here.

Purges are `CreateInvalidation` calls planned by `plan_invalidations` and submitted with
back-off by `submit_batches`; purge status polls `GetInvalidation`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.signers import CloudFrontSigner

from cdn_adapters.base import CdnError, PurgeResult, PurgeState, TokenMode
from cdn_adapters.cloudfront.backoff import DEFAULT_BACKOFF, Backoff, submit_batches
from cdn_adapters.cloudfront.errors import translate
from cdn_adapters.cloudfront.plan import Batch, InvalidationLimits, plan_invalidations
from cdn_adapters.cloudfront.signing import UrlSigner, load_rsa_private_key, rsa_sha1_signer

if TYPE_CHECKING:
    from cdn_adapters.base import CdnAdapter
    from streamcore.settings import CloudFrontCdn

logger = logging.getLogger(__name__)


class _Invalidation(NamedTuple):
    id: str
    completed: bool
    paths: tuple[str, ...]

    @classmethod
    def parse(cls, response: dict[str, Any]) -> _Invalidation:
        invalidation = response["Invalidation"]
        items = invalidation.get("InvalidationBatch", {}).get("Paths", {}).get("Items") or []
        # CloudFront says "InProgress" then "Completed"; emulators differ in case.
        done = str(invalidation.get("Status", "")).lower() == "completed"
        return cls(str(invalidation["Id"]), done, tuple(items))


class CloudFrontAdapter:
    """Build with `from_settings`. See docs/cdn.md for the distribution this expects."""

    # Its own signature in the query; our token goes beside it.
    token_mode: ClassVar[TokenMode] = TokenMode.QUERY

    def __init__(
        self,
        *,
        name: str,
        domain: str,
        distribution_id: str,
        signer: CloudFrontSigner,
        client_kwargs: dict[str, Any],
        limits: InvalidationLimits,
        poll_interval_s: float,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self._urls = UrlSigner(domain=domain, signer=signer, clock=clock)
        self._distribution_id = distribution_id
        self._client_kwargs = client_kwargs
        self._limits = limits
        self._poll_interval_s = poll_interval_s
        self._backoff = backoff
        self._session = get_session()

    @classmethod
    def from_settings(
        cls,
        cfg: CloudFrontCdn,
        *,
        backoff: Backoff = DEFAULT_BACKOFF,
        clock: Callable[[], float] = time.time,
    ) -> CloudFrontAdapter:
        key = load_rsa_private_key(
            cfg.private_key.get_secret_value(), setting=f"cdns[{cfg.name}].private_key"
        )
        return cls(
            name=cfg.name,
            domain=cfg.domain,
            distribution_id=cfg.distribution_id,
            signer=CloudFrontSigner(cfg.key_pair_id, rsa_sha1_signer(key)),
            client_kwargs=_client_kwargs(cfg),
            limits=InvalidationLimits(
                max_paths=cfg.max_paths_per_invalidation,
                max_wildcards=cfg.max_wildcards_in_flight,
            ),
            poll_interval_s=cfg.poll_interval_s,
            backoff=backoff,
            clock=clock,
        )

    def asset_url(self, path: str) -> str:
        return self._urls.asset_url(path)

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        """See `UrlSigner.signed_url`: canned policy, or custom for a scope or client IP."""
        return self._urls.signed_url(path, ttl_s=ttl_s, scope=scope, client_ip=client_ip)

    def signed_cookies(
        self, scope: str, *, ttl_s: int, client_ip: str | None = None
    ) -> dict[str, str]:
        """The three cookies that let a viewer fetch everything below `scope` until expiry."""
        return self._urls.signed_cookies(scope, ttl_s=ttl_s, client_ip=client_ip)

    async def purge(self, paths: Sequence[str], *, reference: str) -> PurgeResult:
        batches = plan_invalidations(paths, reference=reference, limits=self._limits)
        if not batches:
            return self._result([])
        async with self._client() as client:

            async def create(batch: Batch) -> _Invalidation:
                return await self._create(client, batch)

            created = await submit_batches(batches, create, backoff=self._backoff)
        logger.info(
            "CloudFront purge %s: %d paths as %d invalidation(s) %s",
            reference,
            len(paths),
            len(created),
            ",".join(invalidation.id for invalidation in created),
        )
        return self._result(created)

    async def purge_status(self, purge_id: str) -> PurgeResult:
        ids = self._invalidation_ids(purge_id)
        if not ids:
            return self._result([])
        async with self._client() as client:
            found = await asyncio.gather(*(self._get(client, id_) for id_ in ids))
        return self._result(list(found))

    async def wait(self, purge_id: str, *, timeout_s: float) -> PurgeResult:
        """Poll every `poll_interval_s` until the purge completes; TimeoutError after timeout_s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            result = await self.purge_status(purge_id)
            remaining = deadline - loop.time()
            if result.state is not PurgeState.IN_PROGRESS:
                return result
            if remaining <= 0:
                raise TimeoutError(f"CloudFront purge {purge_id} not complete after {timeout_s}s")
            await asyncio.sleep(min(self._poll_interval_s, remaining))

    # -- internals --

    @contextlib.asynccontextmanager
    async def _client(self) -> AsyncIterator[Any]:
        # One client per operation: purges are rare, and a client is never bound to a loop
        # that a later asyncio.run() (a Celery task, say) no longer has.
        async with self._session.create_client("cloudfront", **self._client_kwargs) as client:
            yield client

    async def _create(self, client: Any, batch: Batch) -> _Invalidation:
        try:
            response = await client.create_invalidation(
                DistributionId=self._distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(batch.paths), "Items": list(batch.paths)},
                    "CallerReference": batch.caller_reference,
                },
            )
        except Exception as exc:
            raise self._translate(exc, f"invalidation {batch.caller_reference}") from exc
        return _Invalidation.parse(response)

    async def _get(self, client: Any, invalidation_id: str) -> _Invalidation:
        try:
            response = await client.get_invalidation(
                DistributionId=self._distribution_id, Id=invalidation_id
            )
        except Exception as exc:
            raise self._translate(exc, f"invalidation {invalidation_id}") from exc
        return _Invalidation.parse(response)

    def _result(self, invalidations: list[_Invalidation]) -> PurgeResult:
        ids = tuple(invalidation.id for invalidation in invalidations)
        done = all(invalidation.completed for invalidation in invalidations)
        return PurgeResult(
            cdn=self.name,
            purge_id=f"{self.name}:{self._distribution_id}:{','.join(ids)}",
            state=PurgeState.COMPLETED if done else PurgeState.IN_PROGRESS,
            paths=tuple(path for invalidation in invalidations for path in invalidation.paths),
            provider_ids=ids,
        )

    def _invalidation_ids(self, purge_id: str) -> list[str]:
        """The ids in ``{name}:{distribution_id}:{id},{id},...`` (the name routes purge ids)."""
        name, _, rest = purge_id.partition(":")
        distribution_id, _, ids = rest.partition(":")
        if name != self.name or distribution_id != self._distribution_id:
            raise CdnError(
                f"not a purge id of CDN {self.name!r} (distribution {self._distribution_id}): "
                f"{purge_id!r}"
            )
        return [id_ for id_ in ids.split(",") if id_]

    def _translate(self, exc: Exception, what: str) -> CdnError:
        return translate(exc, what, cdn=self.name, distribution_id=self._distribution_id)


def _client_kwargs(cfg: CloudFrontCdn) -> dict[str, Any]:
    if (cfg.access_key_id is None) != (cfg.secret_access_key is None):
        raise ValueError(f"cdns[{cfg.name}]: access_key_id and secret_access_key go together")
    kwargs: dict[str, Any] = {
        "region_name": cfg.region,
        "endpoint_url": cfg.endpoint_url,
        # botocore's standard mode retries throttling, 5xx and connection errors three times;
        # TooManyInvalidationsInProgress is not among them and is waited out by submit_batches.
        "config": Config(
            connect_timeout=5.0, read_timeout=30.0, retries={"mode": "standard", "max_attempts": 3}
        ),
    }
    if cfg.access_key_id is not None and cfg.secret_access_key is not None:
        kwargs["aws_access_key_id"] = cfg.access_key_id.get_secret_value()
        kwargs["aws_secret_access_key"] = cfg.secret_access_key.get_secret_value()
    return kwargs


if TYPE_CHECKING:

    def _implements_the_protocol(adapter: CloudFrontAdapter) -> CdnAdapter:
        return adapter
