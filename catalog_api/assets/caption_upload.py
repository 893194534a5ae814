"""Reading a caption file from a request: the raw body or a form's `file`, the query's or
the form's `lang`, `kind` and `label`, with a hard size limit, then the reader in a thread.

A broken file is refused here with the line at fault (400 `invalid_caption`), before
anything is stored; the handlers (catalog_api/assets/captions.py) keep what this accepts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote

import langcodes
from aiohttp import BodyPartReader, web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from catalog_api.assets.upload import ReadChunk
from packager.captions import (
    MAX_BYTES,
    CaptionDocument,
    CaptionError,
    normalise_language,
    parse_captions,
)
from streamcore.assets.captions import CaptionKind
from streamcore.web.service import BadRequest, PayloadTooLarge, UnsupportedMediaType
from streamcore.web.validation import from_validation_error, invalid

MAX_LABEL = 100
RAW_TYPES = ("text/vtt", "application/x-subrip", "text/plain", "application/octet-stream")
# What the kept file is served as, by the format the reader found.
CONTENT_TYPES = {"webvtt": "text/vtt", "srt": "application/x-subrip"}
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


async def receive(request: web.Request) -> Received:
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


async def parse(received: Received) -> CaptionDocument:
    """The reader is plain Python over up to 5 MiB: off the event loop."""
    try:
        return await asyncio.to_thread(parse_captions, received.data, filename=received.filename)
    except CaptionError as exc:
        raise InvalidCaption(exc) from None
