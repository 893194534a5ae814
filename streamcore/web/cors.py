"""CORS on every response, errors and streamed bodies included, and preflight answers.

Headers are added in `on_response_prepare`, just before they are sent: a middleware would be
too late for streamed responses, whose headers leave with their first bytes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

READ_METHODS = "GET, HEAD, OPTIONS"
# Authorization: players on other origins send their access token (issue 12).
ALLOW_HEADERS = (
    "Range, If-None-Match, If-Modified-Since, If-Range, Content-Type, X-Viewer-Id, Authorization"
)
EXPOSE_HEADERS = "Content-Length, Content-Range, ETag, Accept-Ranges, X-Cache"


def cors_headers(
    allowed: tuple[str, ...],
) -> Callable[[web.Request, web.StreamResponse], Awaitable[None]]:
    """An `on_response_prepare` hook allowing the listed origins (``*``: any)."""

    async def add(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if "*" in allowed:
            response.headers["Access-Control-Allow-Origin"] = "*"
        else:
            response.headers.add("Vary", "Origin")
            if origin not in allowed:
                return
            response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS

    return add


def preflight(methods: str = READ_METHODS) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler answering CORS preflight requests for these methods."""

    async def answer(request: web.Request) -> web.Response:
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": methods,
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "86400",
            },
        )

    return answer
