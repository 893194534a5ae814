"""The catalog's OpenAPI document at /openapi.json (built by streamcore/web/openapi.py), and
the docs page at /docs.

The page is Swagger UI from the pinned npm package `swagger-ui-dist` (player_web/package.json,
installed by `make install`), served from this process: nothing loads from a CDN, which the
page's Content-Security-Policy enforces.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aiohttp import web

from catalog_api.openapi.operations import OPERATIONS
from catalog_api.openapi.security import secured
from catalog_api.permissions import PERMISSIONS
from catalog_api.player import PLAYER_DIR
from streamcore.web.openapi import build, document_route
from streamcore.web.service import NotFound

SWAGGER_DIR = PLAYER_DIR / "node_modules" / "swagger-ui-dist"
_FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
}
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>StreamCore API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
# validatorUrl null: Swagger UI would otherwise send the document to an online validator.
_INIT = (
    "window.ui = SwaggerUIBundle({url: '/openapi.json', dom_id: '#swagger-ui', "
    "deepLinking: true, validatorUrl: null});\n"
)
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'"
)

DESCRIPTION = """StreamCore's catalog API: assets (upload, processing) and titles (movies,
series, episodes). Playback URLs, watch sessions, progress and events are the streaming
service's (`/openapi/streaming.json`).

Callers send `Authorization: Bearer <token>`: an access token from the auth service, or a
service account key. Reads are public; a profile's token (its maturity level) hides the titles
above it, and their assets, as if absent. Uploading and managing one's own assets needs
`upload` (creators); titles and anyone's assets need `manage_catalog` (admins). Each
operation says which (`x-permission`). No token is a 401 where one is needed, a role without
the permission a 403. Every error is JSON, `{"error": {"code": "...", "message": "..."}}`,
with a stable `code`; invalid input is a 400 `invalid_request` whose `details` name every
field at fault."""


@cache
def document() -> dict[str, Any]:
    built = build(
        list(OPERATIONS), title="StreamCore catalog API", version="1", description=DESCRIPTION
    )
    return secured(built, PERMISSIONS)


async def docs_page(request: web.Request) -> web.Response:
    return web.Response(
        text=_PAGE, content_type="text/html", headers={"Content-Security-Policy": _CSP}
    )


async def docs_init(request: web.Request) -> web.Response:
    return web.Response(text=_INIT, content_type="text/javascript")


async def docs_file(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = SWAGGER_DIR / name
    if name not in _FILES or not path.is_file():
        raise NotFound(f"no docs file {name} (run `make install` to fetch swagger-ui-dist)")
    return web.FileResponse(
        path, headers={"Content-Type": _FILES[name], "Cache-Control": "no-cache"}
    )


def routes() -> list[web.RouteDef]:
    return [
        document_route("/openapi.json", document()),
        web.get("/docs", docs_page),
        web.get("/docs/init.js", docs_init),
        web.get("/docs/{name}", docs_file),
    ]
