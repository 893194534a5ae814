"""JSON responses from bytes encoded once, so that an encoding can be kept and sent again.

The bytes are exactly those `aiohttp.web.json_response` sends (the standard `json.dumps`,
ASCII-escaped, as UTF-8), and so is the Content-Type: a body kept by
`streamcore.cache.memo.Memo` and one built for this request are indistinguishable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def json_bytes_response(
    body: bytes, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=body, status=status, headers=headers, content_type="application/json",
        charset="utf-8",
    )  # fmt: skip
