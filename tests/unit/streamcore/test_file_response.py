"""`respond_file` on a real aiohttp server and a real file: ranges, validators, HEAD, sendfile."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from streamcore.web.file_response import respond_file
from streamcore.web.service import json_errors

MODIFIED = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)


async def _client(path: Path, size: int) -> TestClient:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await respond_file(
            request, path, size=size, etag="abc", last_modified=MODIFIED,
            headers={"Content-Type": "video/iso.segment", "Cache-Control": "public"},
        )  # fmt: skip

    app = web.Application(middlewares=[json_errors])
    app.router.add_route("*", "/f", handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def test_a_file_is_sent_whole_in_ranges_and_conditionally(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "segment"
    path.write_bytes(data)
    client = await _client(path, len(data))
    try:
        whole = await client.get("/f")
        assert whole.status == 200 and await whole.read() == data
        assert whole.headers["ETag"] == '"abc"'
        assert whole.headers["Last-Modified"] == "Tue, 01 Dec 2026 12:00:00 GMT"
        assert whole.headers["Accept-Ranges"] == "bytes"
        assert whole.headers["Content-Type"] == "video/iso.segment"
        ranged = await client.get("/f", headers={"Range": "bytes=1000-2000999"})
        assert ranged.status == 206 and await ranged.read() == data[1000:2001000]
        assert ranged.headers["Content-Range"] == f"bytes 1000-2000999/{len(data)}"
        # A multi-range is ignored (the whole file), as for bytes in memory.
        multi = await client.get("/f", headers={"Range": "bytes=0-1,5-6"})
        assert multi.status == 200 and len(await multi.read()) == len(data)
        beyond = await client.get("/f", headers={"Range": f"bytes={len(data)}-"})
        assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
        assert (await client.get("/f", headers={"If-None-Match": '"abc"'})).status == 304
        stale = await client.get("/f", headers={"Range": "bytes=0-9", "If-Range": '"old"'})
        assert stale.status == 200 and len(await stale.read()) == len(data)
        head = await client.head("/f")
        assert head.status == 200 and head.headers["Content-Length"] == str(len(data))
    finally:
        await client.close()
