"""Receiving an upload: bytes go to S3 as they arrive, in parts, so memory stays flat.

Two request shapes are accepted:
- ``multipart/form-data`` with a ``file`` field (and optionally ``title`` and
  ``audio_languages``);
- a raw body (``application/octet-stream``, ``video/*``, ``audio/*``) with the filename in
  ``X-Filename`` (percent-encoded UTF-8) and the title in ``X-Title`` or ``?title=``.

Either may name the languages of the source's audio tracks, in its order, comma-separated
(``?audio_languages=en,fr``, the ``X-Audio-Languages`` header or the form field; an empty
entry keeps that track's own tag): checked as BCP 47 before a byte is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote
from uuid import UUID

from aiohttp import BodyPartReader, web

from packager.captions import normalise_language
from streamcore.assets import keys
from streamcore.settings import Settings
from streamcore.storage import MultipartUpload, Storage
from streamcore.web.service import BadRequest, PayloadTooLarge, UnsupportedMediaType
from streamcore.web.validation import invalid

_READ_CHUNK = 256 * 1024
_MAX_TITLE = 500
_RAW_TYPES = ("application/octet-stream", "video/", "audio/", "image/")
_MAX_AUDIO_TRACKS = 32
AUDIO_LANGUAGES = "audio_languages"

ReadChunk = Callable[[int], Awaitable[bytes]]


@dataclass(frozen=True)
class StoredUpload:
    source_key: str
    filename: str
    size: int
    content_type: str | None
    title: str
    audio_languages: tuple[str, ...] = ()


def audio_languages(raw: str) -> tuple[str, ...]:
    """``en,,fr`` as ("en", "", "fr"); a 400 naming the entry that is not a language."""
    if not raw.strip():
        return ()
    entries = [entry.strip() for entry in raw.split(",")]
    if len(entries) > _MAX_AUDIO_TRACKS:
        raise invalid(AUDIO_LANGUAGES, f"at most {_MAX_AUDIO_TRACKS} audio tracks")
    languages = []
    for number, entry in enumerate(entries, start=1):
        try:
            languages.append(normalise_language(entry) if entry else "")
        except ValueError as exc:
            raise invalid(AUDIO_LANGUAGES, f"track {number} ({entry!r}): {exc}") from None
    return tuple(languages)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the upload is larger than the limit of {limit} bytes")


async def _stream_to(upload: MultipartUpload, read: ReadChunk, limit: int) -> int:
    size = 0
    while chunk := await read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        await upload.write(chunk)
    return size


async def _store(
    storage: Storage, settings: Settings, asset_id: UUID, filename: str, content_type: str | None,
    read: ReadChunk,
) -> tuple[str, int]:  # fmt: skip
    key = keys.source_key(asset_id, filename)
    upload = await storage.multipart_upload(
        settings.s3.uploads_bucket,
        key,
        content_type=content_type or "application/octet-stream",
        part_size=settings.catalog_api.upload_part_bytes,
    )
    try:
        size = await _stream_to(upload, read, settings.catalog_api.max_upload_bytes)
        if size == 0:
            raise BadRequest("the file is empty (0 bytes)")
        await upload.complete()
    except BaseException:
        # Nothing half-written is left behind: a failed or refused upload stores nothing.
        await upload.abort()
        raise
    return key, size


async def _title_field(part: BodyPartReader) -> str:
    raw = await part.read_chunk(_MAX_TITLE * 4)
    return raw.decode("utf-8", errors="replace").strip()[:_MAX_TITLE]


def _clean_title(raw: str) -> str:
    """Without control characters (PostgreSQL text cannot hold NUL; none belongs in a title)."""
    printable = "".join(ch for ch in raw if ch.isprintable() or ch == " ")
    return printable.strip()[:_MAX_TITLE]


async def receive(
    request: web.Request, storage: Storage, settings: Settings, asset_id: UUID
) -> StoredUpload:
    """Store the request's file under the asset's source key and describe it."""
    limit = settings.catalog_api.max_upload_bytes
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    languages = audio_languages(
        request.headers.get("X-Audio-Languages", request.query.get(AUDIO_LANGUAGES, ""))
    )
    if request.content_type == "multipart/form-data":
        return await _receive_multipart(request, storage, settings, asset_id, languages)
    if request.content_type.startswith(_RAW_TYPES):
        filename = keys.display_filename(unquote(request.headers.get("X-Filename", "upload")))
        title = unquote(request.headers.get("X-Title", request.query.get("title", "")))
        key, size = await _store(
            storage, settings, asset_id, filename, request.content_type, request.content.read
        )
        return StoredUpload(
            key, filename, size, request.content_type, _clean_title(title), languages
        )
    raise UnsupportedMediaType(
        "send multipart/form-data with a 'file' field, or the raw bytes as "
        "application/octet-stream with an X-Filename header"
    )


async def _receive_multipart(
    request: web.Request,
    storage: Storage,
    settings: Settings,
    asset_id: UUID,
    languages: tuple[str, ...],
) -> StoredUpload:
    reader = await request.multipart()
    title, stored = request.query.get("title", ""), None
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise BadRequest("nested multipart bodies are not supported")
            if part.name == "title":
                title = await _title_field(part)
            elif part.name == AUDIO_LANGUAGES:
                if stored is not None:  # checked before anything is stored, like the header
                    raise invalid(AUDIO_LANGUAGES, "must come before the 'file' field")
                languages = audio_languages(await _title_field(part))
            elif part.name == "file":
                if stored is not None:
                    raise BadRequest(
                        "one file per request: the form has more than one 'file' field"
                    )
                filename = keys.display_filename(part.filename or "upload")
                content_type = part.headers.get("Content-Type")
                key, size = await _store(
                    storage, settings, asset_id, filename, content_type, part.read_chunk
                )
                stored = (key, filename, size, content_type)
            else:
                await part.release()
    except BaseException:
        # A form refused after its file was stored leaves nothing behind either.
        if stored is not None:
            await storage.delete(settings.s3.uploads_bucket, stored[0])
        raise
    if stored is None:
        raise BadRequest("the form has no 'file' field")
    return StoredUpload(*stored, title=_clean_title(title), audio_languages=languages)
