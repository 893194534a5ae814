"""HTTP byte ranges (RFC 9110 §14): one range per request, which is all players send.

A multi-range or malformed Range header is ignored (the whole object is sent), as the RFC
allows; an unsatisfiable one is a 416 with ``Content-Range: bytes */size``.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime

from aiohttp import web

from streamcore.web.service import ApiError

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(ApiError):
    status, code = 416, "range_not_satisfiable"


def not_satisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the range is outside the file's {size} bytes",
        headers={"Content-Range": f"bytes */{size}"},
    )


def header_if_single(request: web.Request) -> str | None:
    value = request.headers.get("Range", "").strip()
    match = _SINGLE.match(value)
    if not match or (not match[1] and not match[2]):
        return None
    if match[1] and match[2] and int(match[2]) < int(match[1]):
        return None
    return value


def if_range_etag(request: web.Request) -> str | None:
    """If-Range with an entity tag, to be checked by storage as If-Match."""
    value = request.headers.get("If-Range", "").strip()
    return value if value.startswith('"') else None


def applicable(request: web.Request, etag: str, last_modified: datetime) -> str | None:
    """The Range header to honour for a representation we hold, or None for the whole."""
    value = header_if_single(request)
    if value is None:
        return None
    if_range = request.headers.get("If-Range")
    if if_range is not None:
        current = {f'"{etag}"', format_datetime(last_modified, usegmt=True)}
        if if_range.strip() not in current:
            return None
    return value


def resolve(value: str, size: int, headers: dict[str, str]) -> tuple[int, int]:
    """Inclusive (start, end) of a validated single range; sets Content-Range; 416 if outside."""
    match = _SINGLE.match(value)
    assert match is not None
    first, last = match[1], match[2]
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:
        start, end = max(size - int(last), 0), size - 1
    if start >= size or size == 0 or (not first and int(last) == 0):
        raise not_satisfiable(size)
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return start, end
