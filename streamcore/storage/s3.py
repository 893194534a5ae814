"""The S3 implementation of Storage (AWS S3, MinIO, or the stack's SeaweedFS gateway), async.

Built on aiobotocore so that no S3 call ever blocks an event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from streamcore.local_files import opened
from streamcore.settings import Settings
from streamcore.storage import (
    NotModified,
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    PreconditionFailed,
    RangeNotSatisfiable,
    StorageError,
    StorageUnavailable,
)

T = TypeVar("T")
_NOT_FOUND = {"404", "NoSuchKey", "NoSuchBucket", "NotFound"}
_CHUNK = 1024 * 1024
# Streaming to viewers: small enough to start sending at once, large enough to be cheap.
_STREAM_CHUNK = 256 * 1024
# Objects up to this size are sent in one PUT; larger ones in parts.
_SINGLE_PUT_LIMIT = 16 * 1024 * 1024


def client_kwargs(
    settings: Settings, *, connect_timeout: float = 5.0, retries: int = 3
) -> dict[str, Any]:
    """Keyword arguments for an S3 client (aiobotocore here, boto3 in tests and tools)."""
    s3 = settings.s3
    assert s3.access_key_id is not None and s3.secret_access_key is not None
    return {
        "endpoint_url": settings.s3_endpoint,
        "region_name": s3.region,
        "aws_access_key_id": s3.access_key_id.get_secret_value(),
        "aws_secret_access_key": s3.secret_access_key.get_secret_value(),
        "config": Config(
            s3={"addressing_style": s3.addressing_style},
            connect_timeout=connect_timeout,
            read_timeout=max(connect_timeout, 60.0),
            retries={"max_attempts": retries, "mode": "standard"},
            max_pool_connections=32,
            # SeaweedFS and MinIO accept the newer default checksums unevenly; only when asked.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    }


def _translate(exc: Exception, what: str) -> StorageError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _NOT_FOUND or status == 404:
            return ObjectNotFound(f"{what}: not found")
        if status == 304:
            return NotModified(what)
        if status == 412:
            return PreconditionFailed(what)
        if status == 416 or code == "InvalidRange":
            return RangeNotSatisfiable(what)
        if status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout"):
            return StorageUnavailable(
                f"{what}: {code or status} {error.get('Message', '')}".strip()
            )
        return StorageError(f"{what}: {code} {error.get('Message', '')}".strip())
    return StorageUnavailable(f"{what}: {exc}")


async def _call(what: str, operation: Callable[[], Awaitable[T]]) -> T:
    try:
        return await operation()
    except (ClientError, BotoCoreError, OSError, TimeoutError) as exc:
        raise _translate(exc, what) from exc


def _utc(moment: datetime) -> datetime:
    # botocore's timestamps carry dateutil's tzutc; HTTP date formatting wants datetime.UTC.
    return moment.astimezone(UTC)


def _info(key: str, response: dict[str, Any], size: int) -> ObjectInfo:
    return ObjectInfo(
        key=key,
        size=size,
        etag=response["ETag"].strip('"'),
        last_modified=_utc(response["LastModified"]),
        content_type=response.get("ContentType"),
    )


class S3MultipartUpload:
    """Buffers at most one part in memory; each full part is sent before more is read."""

    def __init__(self, client: Any, bucket: str, key: str, upload_id: str, part_size: int) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._upload_id, self._part_size = upload_id, part_size
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []
        self._size = 0

    async def write(self, data: bytes) -> None:
        self._buffer += data
        self._size += len(data)
        while len(self._buffer) >= self._part_size:
            chunk = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            await self._send(chunk)

    async def _send(self, chunk: bytes) -> None:
        number = len(self._parts) + 1
        response = await _call(
            f"upload part {number} of {self._key}",
            lambda: self._client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                PartNumber=number, Body=chunk,
            ),
        )  # fmt: skip
        self._parts.append({"ETag": response["ETag"], "PartNumber": number})

    async def complete(self) -> int:
        if self._buffer or not self._parts:
            await self._send(bytes(self._buffer))
            self._buffer.clear()
        await _call(
            f"complete upload of {self._key}",
            lambda: self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            ),
        )  # fmt: skip
        return self._size

    async def abort(self) -> None:
        self._buffer.clear()
        with contextlib.suppress(StorageError):
            await _call(
                f"abort upload of {self._key}",
                lambda: self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
                ),
            )


class S3Storage:
    def __init__(self, client: Any, region: str) -> None:
        self._client = client
        self._region = region

    async def put_bytes(self, bucket: str, key: str, data: bytes, *, content_type: str) -> None:
        await _call(
            f"put {key}",
            lambda: self._client.put_object(
                Bucket=bucket, Key=key, Body=data, ContentType=content_type
            ),
        )

    async def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        *,
        content_type: str,
        cache_control: str | None = None,
    ) -> None:
        size = (await asyncio.to_thread(path.stat)).st_size
        extra = {"CacheControl": cache_control} if cache_control else {}
        if size <= _SINGLE_PUT_LIMIT:
            data = await asyncio.to_thread(path.read_bytes)
            await _call(
                f"put {key}",
                lambda: self._client.put_object(
                    Bucket=bucket, Key=key, Body=data, ContentType=content_type, **extra
                ),
            )
            return
        upload = await self.multipart_upload(
            bucket, key, content_type=content_type, part_size=8 * 1024 * 1024
        )
        try:
            with path.open("rb") as handle:
                while chunk := await asyncio.to_thread(handle.read, _CHUNK * 8):
                    await upload.write(chunk)
            await upload.complete()
        except BaseException:
            await upload.abort()
            raise

    async def download_file(self, bucket: str, key: str, path: Path) -> int:
        response = await _call(
            f"get {key}", lambda: self._client.get_object(Bucket=bucket, Key=key)
        )
        size = 0
        async with opened(path, "wb") as handle, response["Body"] as body:
            while chunk := await _call(f"read {key}", lambda: body.read(_CHUNK)):
                await asyncio.to_thread(handle.write, chunk)
                size += len(chunk)
        return size

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        response = await _call(
            f"head {key}", lambda: self._client.head_object(Bucket=bucket, Key=key)
        )
        return _info(key, response, response["ContentLength"])

    async def get_bytes(self, bucket: str, key: str) -> tuple[bytes, ObjectInfo]:
        response = await _call(
            f"get {key}", lambda: self._client.get_object(Bucket=bucket, Key=key)
        )
        async with response["Body"] as body:
            data = await _call(f"read {key}", body.read)
        return data, _info(key, response, len(data))

    async def get_stream(
        self,
        bucket: str,
        key: str,
        *,
        byte_range: str | None = None,
        if_match: str | None = None,
        if_none_match: str | None = None,
        if_modified_since: datetime | None = None,
    ) -> ObjectStream:
        conditions: dict[str, Any] = {}
        if byte_range:
            conditions["Range"] = byte_range
        if if_match:
            conditions["IfMatch"] = if_match
        if if_none_match:
            conditions["IfNoneMatch"] = if_none_match
        if if_modified_since:
            conditions["IfModifiedSince"] = if_modified_since
        response = await _call(
            f"get {key}", lambda: self._client.get_object(Bucket=bucket, Key=key, **conditions)
        )
        content_range = response.get("ContentRange")
        total = int(content_range.rsplit("/", 1)[1]) if content_range else response["ContentLength"]
        body = response["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await _call(f"read {key}", lambda: body.read(_STREAM_CHUNK)):
                    yield chunk
            finally:
                body.close()

        return ObjectStream(
            info=_info(key, response, total),
            content_length=response["ContentLength"],
            content_range=content_range,
            chunks=chunks(),
            close=body.close,
        )

    async def list(self, bucket: str, prefix: str) -> AsyncIterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=item["Size"],
                        etag=item["ETag"].strip('"'),
                        last_modified=_utc(item["LastModified"]),
                    )
        except (ClientError, BotoCoreError, OSError) as exc:
            raise _translate(exc, f"list {prefix}") from exc

    async def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete every object under the prefix; return how many. Safe to repeat."""
        if not prefix or not prefix.endswith("/"):
            raise ValueError(f"refusing to delete a prefix that is not a folder: {prefix!r}")
        keys = [info.key async for info in self.list(bucket, prefix)]
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            await _call(
                f"delete under {prefix}",
                lambda batch=batch: self._client.delete_objects(  # type: ignore[misc]
                    Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
                ),
            )
        return len(keys)

    async def delete(self, bucket: str, key: str) -> None:
        """Delete one object (a folder's objects: delete_prefix). Safe to repeat: S3 answers
        a missing key with success."""
        await _call(f"delete {key}", lambda: self._client.delete_object(Bucket=bucket, Key=key))

    async def multipart_upload(
        self, bucket: str, key: str, *, content_type: str, part_size: int
    ) -> S3MultipartUpload:
        response = await _call(
            f"start upload of {key}",
            lambda: self._client.create_multipart_upload(
                Bucket=bucket, Key=key, ContentType=content_type
            ),
        )
        return S3MultipartUpload(self._client, bucket, key, response["UploadId"], part_size)

    async def ensure_bucket(self, bucket: str) -> bool:
        """Create the bucket if missing; True if it was created."""
        try:
            await _call(f"head bucket {bucket}", lambda: self._client.head_bucket(Bucket=bucket))
            return False
        except ObjectNotFound:
            pass
        # AWS rejects a LocationConstraint of us-east-1 and requires one everywhere else.
        extra = (
            {}
            if self._region == "us-east-1"
            else {"CreateBucketConfiguration": {"LocationConstraint": self._region}}
        )
        await _call(
            f"create bucket {bucket}", lambda: self._client.create_bucket(Bucket=bucket, **extra)
        )
        return True

    async def ping(self) -> None:
        """A signed request that needs no bucket: the store answers and accepts our keys."""
        await _call("list buckets", lambda: self._client.list_buckets())

    async def check_bucket(self, bucket: str) -> None:
        await _call(f"head bucket {bucket}", lambda: self._client.head_bucket(Bucket=bucket))


@contextlib.asynccontextmanager
async def open_storage(
    settings: Settings, *, connect_timeout: float = 5.0, retries: int = 3
) -> AsyncIterator[S3Storage]:
    """An S3Storage whose connection pool is closed on exit."""
    session = get_session()
    kwargs = client_kwargs(settings, connect_timeout=connect_timeout, retries=retries)
    async with session.create_client("s3", **kwargs) as client:
        yield S3Storage(client, settings.s3.region)


async def ensure_buckets(settings: Settings) -> list[str]:
    """Create the uploads and media buckets if missing; return the ones created."""
    async with open_storage(settings) as storage:
        buckets = (settings.s3.uploads_bucket, settings.s3.media_bucket)
        return [bucket for bucket in buckets if await storage.ensure_bucket(bucket)]
