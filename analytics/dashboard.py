"""The admin dashboard's page (`dashboard_web/`), served as static files under /admin/dashboard/.

The page holds no data: it signs an admin in and reads the analytics API with that token, so
a viewer's token is refused there (403), whatever page it loads. Only the page's own files
and the pinned Chart.js build are reachable; nothing else of `dashboard_web/` is.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

import dashboard_web
from streamcore.web.service import NotFound

PREFIX = "/admin/dashboard"
VENDOR = {"chart.umd.min.js": Path("node_modules/chart.js/dist/chart.umd.min.js")}
_PAGE_SUFFIXES = {".html", ".js", ".css"}
# Scripts, styles and connections (the API, the WebSocket) from this origin only.
_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def _file(relative: Path) -> web.FileResponse:
    path = dashboard_web.DIR / relative
    if not path.is_file():
        raise NotFound(
            f"no dashboard file {relative} (run `make install` to fetch Chart.js; a wheel "
            "must be built after `npm ci --prefix dashboard_web`)"
        )
    return web.FileResponse(path, headers=_HEADERS)


async def page(request: web.Request) -> web.StreamResponse:
    name = request.match_info.get("name") or "index.html"
    if "/" in name or name.startswith(".") or Path(name).suffix not in _PAGE_SUFFIXES:
        raise NotFound("no such dashboard file")
    return _file(Path(name))


async def vendor(request: web.Request) -> web.StreamResponse:
    relative = VENDOR.get(request.match_info["name"])
    if relative is None:
        raise NotFound("no such vendor file")
    return _file(relative)


async def redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(f"{PREFIX}/")


routes = [
    web.get(PREFIX, redirect),
    web.get(f"{PREFIX}/", page),
    web.get(f"{PREFIX}/vendor/{{name}}", vendor),
    web.get(f"{PREFIX}/{{name}}", page),
]
