"""Object storage: one async interface, used by the API, the workers and the origin.

Vendor errors never leave this package: callers see ObjectNotFound (a 404, permanent) and
StorageUnavailable (network, throttling, 5xx: worth retrying).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from streamcore.failures import Transient


class StorageError(Exception):
    """Base of everything this package raises."""


class ObjectNotFound(StorageError):
    pass


class StorageUnavailable(StorageError, Transient):
    """Transient: the store could not be reached or answered with a server error."""


class NotModified(StorageError):
    """A conditional read found the caller's copy current (HTTP 304)."""


class PreconditionFailed(StorageError):
    """An If-Match condition did not hold (HTTP 412)."""


class RangeNotSatisfiable(StorageError):
    """The requested byte range lies outside the object (HTTP 416)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str | None = None


@dataclass
class ObjectStream:
    """An object (or a byte range of it) being read; `chunks` must be consumed or closed."""

    info: ObjectInfo  # info.size is the whole object's size
    content_length: int
    content_range: str | None  # "bytes a-b/size" for a partial read
    chunks: AsyncIterator[bytes]
    close: Callable[[], None]


class MultipartUpload(Protocol):
    """Bytes written in order, stored as one object on complete(); nothing on abort()."""

    async def write(self, data: bytes) -> None: ...

    async def complete(self) -> int: ...

    async def abort(self) -> None: ...


class Storage(Protocol):
    async def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str,
        cache_control: str | None = None,
    ) -> None: ...

    async def put_bytes(self, bucket: str, key: str, data: bytes, *, content_type: str) -> None: ...

    async def download_file(self, bucket: str, key: str, path: Path) -> int: ...

    async def head(self, bucket: str, key: str) -> ObjectInfo: ...

    async def get_bytes(self, bucket: str, key: str) -> tuple[bytes, ObjectInfo]: ...

    async def get_stream(
        self,
        bucket: str,
        key: str,
        *,
        byte_range: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
    ) -> ObjectStream: ...

    def list(self, bucket: str, prefix: str) -> AsyncIterator[ObjectInfo]: ...

    async def delete_prefix(self, bucket: str, prefix: str) -> int: ...

    async def delete(self, bucket: str, key: str) -> None: ...

    async def multipart_upload(
        self, bucket: str, key: str, *, content_type: str, part_size: int
    ) -> MultipartUpload: ...

    async def ensure_bucket(self, bucket: str) -> bool: ...

    async def check_bucket(self, bucket: str) -> None: ...

    async def ping(self) -> None: ...
