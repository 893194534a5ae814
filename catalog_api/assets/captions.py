"""HTTP handlers for an asset's captions and subtitles: /v1/assets/{asset_id}/captions.

A WebVTT or SRT file is read (at most `packager.captions.MAX_BYTES`) and checked in a thread
before anything is stored, so that a broken one is refused at once with the line at fault
(400 `invalid_caption`). An accepted file is kept as sent in the uploads bucket
(`keys.caption_source_key`), its row written (streamcore/assets/captions.py, a new revision
when the language and kind already have one), and `publish_captions` enqueued after the
commit: the worker puts every caption of a ready asset into its published version, and
those of an asset still processing once processing ends.

Adding and removing need UPLOAD and the right to manage the asset (its owner, admins), as
the other asset writes do: anyone else's asset is a 404. Listing is for whoever may see the
asset (handlers.get_asset's rule).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote
from uuid import UUID

import asyncpg
import langcodes
from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from catalog_api.assets.handlers import _asset_id, _labels, _managed_or_404, _not_found
from catalog_api.assets.upload import ReadChunk
from catalog_api.caller import may_see, visible_certifications
from catalog_api.resources import CACHE_KEY, DB_POOL_KEY, STORAGE_KEY, enqueue
from packager.captions import (
    CAPTION_KINDS,
    MAX_BYTES,
    CaptionDocument,
    CaptionError,
    normalise_language,
    parse_captions,
)
from streamcore.assets import captions, keys, repository
from streamcore.assets.captions import Caption, CaptionKind
from streamcore.assets.states import AssetStatus
from streamcore.auth.principal import principal
from streamcore.cache import catalog_cache
from streamcore.storage import StorageError
from streamcore.tasks.queue import TaskName
from streamcore.web.service import (
    SETTINGS_KEY,
    BadRequest,
    Conflict,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from streamcore.web.validation import from_validation_error, invalid

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

PATH = "/v1/assets/{asset_id}/captions"
MAX_LABEL = 100
RAW_TYPES = ("text/vtt", "application/x-subrip", "text/plain", "application/octet-stream")
# What the kept file is served as, by the format the reader found.
_CONTENT_TYPES = {"webvtt": "text/vtt", "srt": "application/x-subrip"}
# The reader tells the formats apart by content; a raw body's type only breaks a tie.
_FILENAME_HINTS = {"text/vtt": "captions.vtt", "application/x-subrip": "captions.srt"}
_FIELDS = ("lang", "kind", "label")
_MAX_FIELD_BYTES = 4 * MAX_LABEL
# A form's boundaries and part headers, on top of the file itself.
_FORM_OVERHEAD = 64 * 1024
_READ_CHUNK = 64 * 1024


class CaptionParams(BaseModel):
    """What a caption is: from the query string, or the form's fields (which win)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: str = Field(max_length=35, description="BCP 47: fr, pt-BR, zh-Hant")
    kind: CaptionKind = "subtitles"  # the table's CHECK; CAPTION_KINDS (a test checks)
    label: str | None = Field(None, description="What players' menus show")

    @field_validator("lang")
    @classmethod
    def _language(cls, value: str) -> str:
        return normalise_language(value)  # its ValueError says what is wrong

    @field_validator("label")
    @classmethod
    def _label(cls, value: str | None) -> str | None:
        if value is None:
            return None
        label = value.strip()
        if not label or len(label) > MAX_LABEL or not label.isprintable():
            raise ValueError(f"1 to {MAX_LABEL} printable characters")
        return label

    def label_or_default(self) -> str:
        """The label given, else the language's own name (Français), "(CC)" for captions."""
        if self.label is not None:
            return self.label
        name = langcodes.Language.get(self.lang).autonym()
        label = name[:1].upper() + name[1:]
        return f"{label} (CC)" if self.kind == "captions" else label


class InvalidCaption(BadRequest):
    """A caption file the reader refused: the message and `details` name the line."""

    code = "invalid_caption"

    def __init__(self, error: CaptionError) -> None:
        # The line is a number in the JSON, where other details hold only strings.
        detail = {"field": "file", "line": error.line, "message": error.message}
        super().__init__(str(error), details=[cast(dict[str, str], detail)])


@dataclass(frozen=True)
class Received:
    data: bytes
    filename: str | None
    params: CaptionParams


# The row's fields a caption shows, in this order (its source key is the API's business).
_SHOWN = ("language", "kind", "label", "origin", "format", "cue_count", "revision", "published",
          "published_version")  # fmt: skip


def caption_json(caption: Caption) -> dict[str, Any]:
    path = f"/v1/assets/{caption.asset_id}/captions/{caption.language}/{caption.kind}"
    shown = {name: getattr(caption, name) for name in _SHOWN}
    return {"asset_id": str(caption.asset_id), **shown, "links": {"self": path}}


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"the caption file is larger than the limit of {MAX_BYTES} bytes")


async def _read_at_most(read: ReadChunk, limit: int) -> bytes | None:
    """The whole stream, or None as soon as it is longer than `limit` bytes."""
    chunks, size = [], 0
    while chunk := await read(_READ_CHUNK):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _params(request: web.Request, fields: dict[str, str]) -> CaptionParams:
    raw: dict[str, str] = {}
    for name in dict.fromkeys(request.query.keys()):
        values = request.query.getall(name)
        if len(values) > 1:
            raise invalid(name, "give it once")
        raw[name] = values[0]
    try:
        return CaptionParams.model_validate({**raw, **fields})
    except ValidationError as exc:
        raise from_validation_error(exc, "query") from None


async def _field(part: BodyPartReader) -> str:
    raw = await _read_at_most(part.read_chunk, _MAX_FIELD_BYTES)
    if raw is None:
        raise invalid(str(part.name), f"at most {_MAX_FIELD_BYTES} bytes")
    return raw.decode("utf-8", errors="replace")


async def _receive_form(request: web.Request) -> Received:
    reader = await request.multipart()
    data, filename, fields = None, None, {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadRequest("nested multipart bodies are not supported")
        if part.name == "file":
            if data is not None:
                raise BadRequest("one file per request: the form has more than one 'file' field")
            data, filename = await _read_at_most(part.read_chunk, MAX_BYTES), part.filename
            if data is None:
                raise _too_large()
        elif part.name in _FIELDS:
            fields[part.name] = await _field(part)
        else:
            await part.release()
    if data is None:
        raise BadRequest("the form has no 'file' field")
    return Received(data, filename, _params(request, fields))


async def _receive(request: web.Request) -> Received:
    """The file and what it is; 413 above the limit (before reading, when declared)."""
    declared, multipart = request.content_length, request.content_type == "multipart/form-data"
    if declared is not None and declared > MAX_BYTES + (_FORM_OVERHEAD if multipart else 0):
        raise _too_large()
    if multipart:
        return await _receive_form(request)
    if request.content_type in RAW_TYPES:
        params = _params(request, {})  # checked before the body is read
        data = await _read_at_most(request.content.read, MAX_BYTES)
        if data is None:
            raise _too_large()
        hint = request.headers.get("X-Filename")
        filename = unquote(hint) if hint else _FILENAME_HINTS.get(request.content_type)
        return Received(data, filename, params)
    raise UnsupportedMediaType(
        f"send the file as the body ({', '.join(RAW_TYPES)}), or multipart/form-data with "
        "a 'file' field"
    )


async def _parse(received: Received) -> CaptionDocument:
    """The reader is plain Python over up to 5 MiB: off the event loop."""
    try:
        return await asyncio.to_thread(parse_captions, received.data, filename=received.filename)
    except CaptionError as exc:
        raise InvalidCaption(exc) from None


async def _forget(app: web.Application, key: str) -> None:
    """Remove a kept file; after a commit, so a failure is logged (an orphan), not raised."""
    try:
        await app[STORAGE_KEY].delete(app[SETTINGS_KEY].s3.uploads_bucket, key)
    except StorageError as exc:
        log.warning("could not delete %s (left as an orphan): %s", key, exc)


async def _find(pool: asyncpg.Pool, asset_id: UUID, language: str, kind: str) -> Caption | None:
    found = await captions.list_for(pool, asset_id)
    return next((c for c in found if (c.language, c.kind) == (language, kind)), None)


async def _keep(
    app: web.Application, asset_id: UUID, received: Received, document: CaptionDocument
) -> Caption:
    """The file in the uploads bucket, then its row; a file no row names is removed."""
    pool, params, file_format = app[DB_POOL_KEY], received.params, document.source_format
    key = keys.caption_source_key(asset_id, params.lang, params.kind, file_format)
    before = await _find(pool, asset_id, params.lang, params.kind)
    await app[STORAGE_KEY].put_bytes(
        app[SETTINGS_KEY].s3.uploads_bucket, key, received.data,
        content_type=_CONTENT_TYPES[file_format],
    )  # fmt: skip
    try:
        caption = await captions.upsert(
            pool, asset_id=asset_id, language=params.lang, kind=params.kind,
            label=params.label_or_default(), origin="sidecar", file_format=file_format,
            source_key=key, cue_count=len(document.cues),
        )  # fmt: skip
    except BaseException as exc:
        if before is None or before.source_key != key:  # else it overwrote the one kept
            await _forget(app, key)
        if isinstance(exc, asyncpg.ForeignKeyViolationError):  # deleted meanwhile
            raise _not_found(asset_id) from None
        raise
    if before is not None and before.source_key != key:  # an SRT replaced by a WebVTT
        await _forget(app, before.source_key)
    return caption


async def _publish(app: web.Application, asset_id: UUID) -> None:
    """After the row's commit: the worker reads the rows as they are by then."""
    await app[CACHE_KEY].bump_generation(catalog_cache.ASSETS)  # as for the other asset writes
    await enqueue(app, TaskName.PUBLISH_CAPTIONS, asset_id)


@routes.post(PATH)
async def add_caption(request: web.Request) -> web.Response:
    """Add a caption file, or replace the one of its language and kind (a new revision)."""
    asset_id = _asset_id(request)
    asset = await _managed_or_404(request, asset_id)
    if asset.status is AssetStatus.FAILED:
        raise Conflict("the asset failed; reprocess it before adding captions")
    received = await _receive(request)
    document = await _parse(received)
    caption = await _keep(request.app, asset_id, received, document)
    log.info("caption %s of asset %s, revision %d, by %s: %d cues", keys.caption_name(
        caption.language, caption.kind), asset_id, caption.revision, principal(request).actor,
        caption.cue_count)  # fmt: skip
    await _publish(request.app, asset_id)
    return web.json_response(caption_json(caption), status=202)


@routes.get(PATH)
async def list_captions(request: web.Request) -> web.Response:
    asset_id = _asset_id(request)
    pool = request.app[DB_POOL_KEY]
    asset = await repository.get(pool, asset_id)
    if asset is None:
        raise _not_found(asset_id)
    if not principal(request).may_manage(asset.owner_account_id):
        certification = (await _labels(request, asset_id)).certification
        if not may_see(visible_certifications(request), certification):
            raise _not_found(asset_id)  # above the caller's maturity level: as if absent
    items = [caption_json(c) for c in await captions.list_for(pool, asset_id)]
    return web.json_response({"items": items})


def _caption_path(request: web.Request) -> tuple[str, CaptionKind]:
    """The path's language and kind; what names no caption is a 404, like an unknown one."""
    lang, kind = request.match_info["lang"], request.match_info["kind"]
    try:
        language = normalise_language(lang)
    except ValueError:
        language = ""
    if not language or kind not in CAPTION_KINDS:
        raise NotFound(f"no caption {lang!r} / {kind!r}: a language (fr) and a kind (subtitles)")
    return language, cast(CaptionKind, kind)


@routes.delete(PATH + "/{lang}/{kind}")
async def remove_caption(request: web.Request) -> web.Response:
    """Remove a caption; the worker then takes it out of the published manifests."""
    asset_id = _asset_id(request)
    await _managed_or_404(request, asset_id)
    language, kind = _caption_path(request)
    removed = await captions.delete(request.app[DB_POOL_KEY], asset_id, language, kind)
    if removed is None:
        raise NotFound(f"the asset has no {kind} in {language}")
    await _forget(request.app, removed.source_key)
    log.info("caption %s of asset %s removed by %s", keys.caption_name(language, kind),
             asset_id, principal(request).actor)  # fmt: skip
    await _publish(request.app, asset_id)
    body = {"deleted": True, "asset_id": str(asset_id), "language": language, "kind": kind}
    return web.json_response(body, status=202)
