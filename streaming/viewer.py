"""Who is watching: today an anonymous viewer id; later, an account. Only this module knows."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from streamcore.web.validation import invalid

HEADER = "X-Viewer-Id"


def viewer_id(request: web.Request) -> UUID:
    raw = request.headers.get(HEADER, "")
    try:
        return UUID(raw)
    except ValueError:
        raise invalid(HEADER, "send the viewer id from POST /v1/viewers") from None
