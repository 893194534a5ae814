"""Answering a GET or HEAD from a file on local disk, body sent with sendfile.

The same HTTP as `representation.respond` gives bytes in memory (validators and 304s, one byte
range with If-Range, 416, HEAD without a body), for a file whose validators are someone
else's: the origin's disk cache holds objects whose ETag and Last-Modified are object
storage's. aiohttp's FileResponse would send the same bytes the same way, but answers with
validators of its own (the file's mtime and size) and parses Range on its own terms (a
multi-range is a 416 there, the whole file here), so it is not used as is: the body goes out
through `loop.sendfile`, as FileResponse does it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from aiohttp import web

from streamcore.local_files import opened
from streamcore.web import ranges
from streamcore.web.representation import head_response, not_modified, validators


async def respond_file(
    request: web.Request,
    path: Path,
    *,
    size: int,
    etag: str,
    last_modified: datetime,
    headers: dict[str, str],
) -> web.StreamResponse:
    """The response for the `size` bytes at `path`; FileNotFoundError if it is gone (before
    anything was sent). `headers`: Content-Type, Cache-Control and any extra."""
    headers = {**headers, **validators(etag, last_modified, compressible=False)}
    if not_modified(request, etag, last_modified):
        return web.Response(status=304, headers=headers)
    status, offset, count = 200, 0, size
    if (wanted := ranges.applicable(request, etag, last_modified)) is not None:
        start, end = ranges.resolve(wanted, size, headers)
        status, offset, count = 206, start, end - start + 1
    if request.method == "HEAD":
        return await head_response(request, status, headers, count)
    async with opened(path, "rb") as handle:
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = count
        await response.prepare(request)
        if request.transport is None:
            raise ConnectionResetError("the client went away")
        if count:
            await asyncio.get_running_loop().sendfile(request.transport, handle, offset, count)
        await response.write_eof()
        return response
