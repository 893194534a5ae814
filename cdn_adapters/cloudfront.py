"""Amazon CloudFront: URLs and cookies signed with a key-group key, purges as invalidations.

Signing goes through botocore's `CloudFrontSigner` with an RSA-SHA1 signer (the only
signature CloudFront verifies for key-group keys). Purges are `CreateInvalidation` calls whose
caller references derive from the purge's reference, so a retried purge is the same
invalidation to CloudFront. Planning (`plan_invalidations`) and submission with back-off
(`submit_batches`) are plain functions, tested without CloudFront. The rules, the CloudFront
setup and the limits are in docs/cdn.md.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import ipaddress
import logging
import re
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import stamina
from aiobotocore.session import get_session
from botocore import exceptions as boto_errors
from botocore.config import Config
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cdn_adapters.base import CdnError, CdnUnavailable, PurgeResult, PurgeState, check_path

if TYPE_CHECKING:
    from cdn_adapters.base import CdnAdapter
    from streamcore.settings import CloudFrontCdn

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Absolute URL paths as our storage keys make them: no '*', '?', '#', spaces, '//' or '..'.
# A query a path to sign may already carry (the origin's token): URL-safe, no fragment.
_QUERY = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*")
_SIGNING_PARAMS = {"Expires", "Policy", "Signature", "Key-Pair-Id"}
# References short and plain enough to be read in the console are used as they are.
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9._:/-]{1,96}")
_TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "RequestTimeout",
}
_TOO_MANY = "TooManyInvalidationsInProgress"


class TooManyInvalidationsInProgress(CdnUnavailable):
    """CloudFront's in-flight invalidation limits are reached (ours or anyone else's)."""


# --- Planning: pure, deterministic, independent of the order of the paths -------------------


@dataclass(frozen=True)
class InvalidationLimits:
    max_paths: int = 3000  # paths in one invalidation, and file paths in flight
    max_wildcards: int = 15  # wildcard paths in flight
    # Files of one folder are folded into `folder/*` from this many on...
    fold_min_files: int = 10
    # ...if the folder is at least this deep: never `/*`, never `/assets/*`.
    fold_min_depth: int = 2

    def __post_init__(self) -> None:
        if min(self.max_paths, self.max_wildcards, self.fold_min_files) < 1:
            raise ValueError(f"invalidation limits must be at least 1: {self}")


@dataclass(frozen=True)
class Batch:
    """One CreateInvalidation call."""

    caller_reference: str
    paths: tuple[str, ...]

    @property
    def wildcards(self) -> int:
        return sum(path.endswith("*") for path in self.paths)


def plan_invalidations(
    paths: Iterable[str], *, reference: str, limits: InvalidationLimits
) -> list[Batch]:
    """The invalidations that purge `paths`, with caller references derived from `reference`.

    Rules, in order: a folder (ending in ``/``) becomes ``folder/*``; files of one folder are
    folded into ``folder/*`` when there are at least `fold_min_files` of them and the folder is
    at least `fold_min_depth` deep; anything below a wildcard is dropped. Wildcards, then
    files, are sorted and cut into batches of at most `max_wildcards` wildcards and
    `max_paths` paths in all; batch ``i`` gets the caller reference ``{reference}#{i}``.
    """
    folders: set[str] = set()
    files: set[str] = set()
    for path in paths:
        check_path(path)
        (folders if path.endswith("/") else files).add(path)
    folders |= _folded(files, limits)
    folders = {folder for folder in folders if not _below_any(folder, folders)}
    files = {file for file in files if not _below_any(file, folders)}
    tag = reference_tag(reference)
    chunks = _chunks(sorted(f"{folder}*" for folder in folders), sorted(files), limits)
    return [Batch(f"{tag}#{index}", chunk) for index, chunk in enumerate(chunks)]


def reference_tag(reference: str) -> str:
    """The reference as it appears in caller references: itself if plain, else its digest."""
    if not reference:
        raise ValueError("a purge needs a non-empty reference")
    if _PLAIN_REFERENCE.fullmatch(reference):
        return reference
    return "sha256-" + hashlib.sha256(reference.encode()).hexdigest()[:40]


def _folded(files: set[str], limits: InvalidationLimits) -> set[str]:
    by_folder: dict[str, int] = defaultdict(int)
    for file in files:
        by_folder[file.rsplit("/", 1)[0] + "/"] += 1
    return {
        folder
        for folder, count in by_folder.items()
        if count >= limits.fold_min_files
        and len([part for part in folder.split("/") if part]) >= limits.fold_min_depth
    }


def _below_any(path: str, folders: set[str]) -> bool:
    """Whether a strict ancestor folder of `path` (a file or a folder) is in `folders`."""
    parts = path.rstrip("/").split("/")[:-1]
    return any("/".join(parts[: i + 1]) + "/" in folders for i in range(len(parts)))


def _chunks(
    wildcards: list[str], files: list[str], limits: InvalidationLimits
) -> list[tuple[str, ...]]:
    chunks: list[tuple[str, ...]] = []
    w = f = 0
    while w < len(wildcards) or f < len(files):
        taken_w = wildcards[w : w + min(limits.max_wildcards, limits.max_paths)]
        taken_f = files[f : f + limits.max_paths - len(taken_w)]
        chunks.append((*taken_w, *taken_f))
        w += len(taken_w)
        f += len(taken_f)
    return chunks


# --- Submission: one batch after the other, waiting out CloudFront's in-flight limits -------


@dataclass(frozen=True)
class Backoff:
    """How long to wait out TooManyInvalidationsInProgress: exponential, jittered, bounded."""

    attempts: int = 8
    initial_s: float = 10.0
    max_s: float = 120.0
    jitter_s: float = 5.0
    timeout_s: float = 900.0


DEFAULT_BACKOFF = Backoff()


async def submit_batches(
    batches: Sequence[Batch], create: Callable[[Batch], Awaitable[T]], *, backoff: Backoff
) -> list[T]:
    """`create` each batch in order, retrying a batch while CloudFront has too many in flight.

    Any other error stops at once. Batches created before a failure are not lost: their
    caller references make the next attempt with the same reference find them again.
    """
    created: list[T] = []
    for batch in batches:
        try:
            created.append(await _with_backoff(create, batch, backoff))
        except TooManyInvalidationsInProgress as exc:
            raise TooManyInvalidationsInProgress(
                f"CloudFront still had too many invalidations in progress after "
                f"{backoff.attempts} attempts; {len(created)} of {len(batches)} invalidations "
                "were created. Retry with the same reference: those will not be repeated.",
                retry_after_s=backoff.max_s,
            ) from exc
    return created


async def _with_backoff(
    create: Callable[[Batch], Awaitable[T]], batch: Batch, backoff: Backoff
) -> T:
    async for attempt in stamina.retry_context(
        on=TooManyInvalidationsInProgress,
        attempts=backoff.attempts,
        timeout=backoff.timeout_s,
        wait_initial=backoff.initial_s,
        wait_max=backoff.max_s,
        wait_jitter=backoff.jitter_s,
    ):
        with attempt:
            return await create(batch)
    raise AssertionError("unreachable: stamina re-raises the last error")


# --- Signing ----------------------------------------------------------------------------------


def load_rsa_private_key(pem: str, *, setting: str = "private_key") -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{setting}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{setting}: CloudFront key groups take RSA keys only")
    return key


def rsa_sha1_signer(key: rsa.RSAPrivateKey) -> Callable[[bytes], bytes]:
    def sign(message: bytes) -> bytes:
        # CloudFront verifies PKCS#1 v1.5 signatures over SHA-1, and nothing else.
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303

    return sign


def cloudfront_b64(data: bytes) -> str:
    """CloudFront's URL-safe base64: '+' -> '-', '=' -> '_', '/' -> '~'."""
    return base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))


def _source_ip(client_ip: str | None) -> str | None:
    if client_ip is None:
        return None
    address = ipaddress.ip_address(client_ip)
    if address.version != 4:
        # CloudFront matches AWS:SourceIp against IPv4 viewers only; see docs/cdn.md.
        raise ValueError(f"CloudFront policies can restrict IPv4 addresses only: {client_ip}")
    return f"{address}/32"


# --- The adapter ------------------------------------------------------------------------------


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
        self._domain = domain
        self._distribution_id = distribution_id
        self._signer = signer
        self._client_kwargs = client_kwargs
        self._limits = limits
        self._poll_interval_s = poll_interval_s
        self._backoff = backoff
        self._clock = clock
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
        check_path(path)
        return f"https://{self._domain}{path}"

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        """A canned-policy URL for `path`; a custom policy when a scope or client IP is given.

        `path` may carry a query already (the origin's token); the signature covers it. With a
        scope, the policy's resource is ``https://{domain}{scope}*``, and ``*`` matches query
        strings too: the same ``Policy``, ``Signature`` and ``Key-Pair-Id`` (after the same
        query) are valid for every file below the scope.
        """
        bare, mark, query = path.partition("?")
        names = {pair.partition("=")[0] for pair in query.split("&")}
        if not _QUERY.fullmatch(query) or names & _SIGNING_PARAMS:
            raise ValueError(f"unusable query for a signed URL: {path!r}")
        url = f"{self.asset_url(bare)}{mark}{query}"
        expires = self._expires(ttl_s)
        if scope is None and client_ip is None:
            return str(self._signer.generate_presigned_url(url, date_less_than=expires))
        resource = url if scope is None else self._scope_resource(scope, bare)
        policy = self._signer.build_policy(resource, expires, ip_address=_source_ip(client_ip))
        return str(self._signer.generate_presigned_url(url, policy=policy))

    def signed_cookies(
        self, scope: str, *, ttl_s: int, client_ip: str | None = None
    ) -> dict[str, str]:
        """The three cookies that let a viewer fetch everything below `scope` until expiry."""
        resource = self._scope_resource(scope, scope)
        policy = self._signer.build_policy(
            resource, self._expires(ttl_s), ip_address=_source_ip(client_ip)
        ).encode()
        return {
            "CloudFront-Policy": cloudfront_b64(policy),
            "CloudFront-Signature": cloudfront_b64(self._signer.rsa_signer(policy)),
            "CloudFront-Key-Pair-Id": self._signer.key_id,
        }

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

    def _expires(self, ttl_s: int) -> datetime:
        if ttl_s < 1:
            raise ValueError(f"ttl_s must be at least 1 second: {ttl_s}")
        return datetime.fromtimestamp(int(self._clock()) + ttl_s, tz=UTC)

    def _scope_resource(self, scope: str, path: str) -> str:
        check_path(scope)
        if not scope.endswith("/") or not path.startswith(scope):
            raise ValueError(f"scope must be a folder (ending in '/') above {path!r}: {scope!r}")
        return f"https://{self._domain}{scope}*"

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
        if isinstance(exc, boto_errors.ClientError):
            return self._translate_client_error(exc, what)
        if isinstance(exc, boto_errors.NoCredentialsError):
            return CdnError(
                f"no AWS credentials for CloudFront: set cdns[{self.name}].access_key_id and "
                "secret_access_key, or configure boto3's default credential chain"
            )
        if isinstance(
            exc, boto_errors.ConnectionError | boto_errors.HTTPClientError | OSError | TimeoutError
        ):
            return CdnUnavailable(f"CloudFront API unreachable ({what}): {exc}")
        return CdnError(f"CloudFront request failed ({what}): {exc}")

    def _translate_client_error(self, exc: boto_errors.ClientError, what: str) -> CdnError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")).strip()
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code == _TOO_MANY:
            return TooManyInvalidationsInProgress(f"CloudFront ({what}): {message or code}")
        if status >= 500 or status == 429 or code in _TRANSIENT_CODES:
            return CdnUnavailable(f"CloudFront is throttling or failing ({what}): {code} {message}")
        if code == "AccessDenied" or status == 403:
            return CdnError(
                f"CloudFront denied access ({what}): the credentials need "
                "cloudfront:CreateInvalidation and cloudfront:GetInvalidation on distribution "
                f"{self._distribution_id}. {message}"
            )
        if code == "NoSuchDistribution":
            return CdnError(
                f"no CloudFront distribution {self._distribution_id} "
                f"(cdns[{self.name}].distribution_id)"
            )
        if code == "NoSuchInvalidation":
            return CdnError(f"CloudFront knows no {what} on distribution {self._distribution_id}")
        if code == "InvalidationBatchAlreadyExists":
            return CdnError(
                f"CloudFront already has {what} with other paths: a reference must name one "
                "purge, never be reused for another set of paths"
            )
        return CdnError(f"CloudFront rejected {what}: {code} ({status}) {message}".strip())


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
