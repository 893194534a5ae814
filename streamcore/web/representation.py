"""Answering a GET or HEAD from bytes in memory, with HTTP done right.

Shared by the origin (small hot objects) and the local edge (its cache): validators and 304s,
single byte ranges (206/416, honouring If-Range), gzip for text, HEAD without a body.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from streamcore.web import ranges


@dataclass(frozen=True)
class Representation:
    body: bytes
    etag: str  # without quotes
    last_modified: datetime
    headers: dict[str, str]  # Content-Type, Cache-Control and any extra, not the validators
    compressible: bool = False


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def validators(etag: str, last_modified: datetime, *, compressible: bool) -> dict[str, str]:
    headers = {"ETag": f'"{etag}"', "Last-Modified": format_datetime(last_modified, usegmt=True)}
    if compressible:
        headers["Vary"] = "Accept-Encoding"
    else:
        headers["Accept-Ranges"] = "bytes"
    return headers


def not_modified(request: web.Request, etag: str, last_modified: datetime) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or f'"{etag}"' in tags
    since = http_date(request.headers.get("If-Modified-Since"))
    return since is not None and last_modified.replace(microsecond=0) <= since


async def head_response(
    request: web.Request, status: int, headers: dict[str, str], length: int
) -> web.StreamResponse:
    """Headers only, with the Content-Length a GET would have."""
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = length
    await response.prepare(request)
    await response.write_eof()
    return response


async def respond(request: web.Request, rep: Representation) -> web.StreamResponse:
    """The response to a GET or HEAD for `rep`; returns it (with its body size known)."""
    data, etag = rep.body, rep.etag
    compress = rep.compressible and "gzip" in request.headers.get("Accept-Encoding", "")
    if compress:
        data = gzip.compress(data, compresslevel=6, mtime=0)
        etag = f"{etag}-gz"  # another representation, so another strong validator
    headers = {
        **rep.headers,
        **validators(etag, rep.last_modified, compressible=rep.compressible),
    }
    if compress:
        headers["Content-Encoding"] = "gzip"
    if not_modified(request, etag, rep.last_modified):
        return web.Response(status=304, headers=headers)
    status, body = 200, data
    if not compress and (wanted := ranges.applicable(request, etag, rep.last_modified)) is not None:
        start, end = ranges.resolve(wanted, len(data), headers)
        status, body = 206, data[start : end + 1]
    if request.method == "HEAD":
        return await head_response(request, status, headers, len(body))
    return web.Response(status=status, body=body, headers=headers)
