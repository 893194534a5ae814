"""The one protocol every CDN adapter implements, and the errors they raise.

Paths are absolute URL paths that mirror storage keys: ``/assets/{id}/v{n}/master.m3u8``.
A path ending in ``/`` means everything below it (a whole asset or version).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from streamcore.failures import Transient

# An absolute URL path of characters RFC 3986 allows unescaped in a path (and escapes).
_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()+,;=:@%/-]*")


def check_path(path: str) -> None:
    """Refuse anything but an absolute, traversal-free URL path before it reaches a CDN."""
    if not _PATH.fullmatch(path) or "//" in path or ".." in path.split("/"):
        raise ValueError(f"not an absolute URL path StreamCore would serve: {path!r}")


class CdnError(Exception):
    """The CDN refused the request for good (bad credentials, malformed request)."""


class CdnUnavailable(CdnError, Transient):
    """Transient: unreachable, throttled, or a server error. Worth retrying later."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PurgeState(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class PurgeResult:
    cdn: str
    purge_id: str  # stable: pass it to purge_status()
    state: PurgeState
    paths: tuple[str, ...]
    # The provider's own ids (CloudFront invalidation ids, Cloudflare purge ids).
    provider_ids: tuple[str, ...] = field(default_factory=tuple)
    detail: str | None = None


class TokenMode(enum.StrEnum):
    """Where a CDN's URLs carry our origin token (streamcore/signing.py)."""

    # In the path (/t/{token}/...): a playlist's relative URIs inherit it, so any player works,
    # and the same path works on every path-token source (players may switch between them).
    PATH = "path"
    # In the query, beside the CDN's own signature: the origin adds it to every URI in the
    # manifests it serves (origin/rewrite.py).
    QUERY = "query"


class CdnAdapter(Protocol):
    name: str
    # Declared by each adapter class: what kind of CDN it is decides, not its configuration.
    token_mode: ClassVar[TokenMode]

    def asset_url(self, path: str) -> str:
        """The CDN URL of a path, unsigned."""
        ...

    def signed_url(
        self, path: str, *, ttl_s: int, scope: str | None = None, client_ip: str | None = None
    ) -> str:
        """A URL for `path` that the CDN accepts until `ttl_s` from now.

        `scope` is a folder prefix (ending in ``/``) that the signature covers too, so that
        a playlist's relative children are allowed; by default only `path` itself is.
        """
        ...

    async def purge(self, paths: Sequence[str], *, reference: str) -> PurgeResult:
        """Remove paths (and folders, ending in ``/``) from the CDN's caches.

        `reference` identifies the purge: the same reference twice is one purge, so a
        retried task never purges (or bills) twice.
        """
        ...

    async def purge_status(self, purge_id: str) -> PurgeResult: ...
