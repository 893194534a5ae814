"""The bundled web player (`player_web/`), served as static files under /player/.

Only the page's own files and the two pinned vendor builds are served: nothing else from
`player_web/` (package files, the rest of node_modules) is reachable. The files are package
data of `player_web`, so an installed copy serves the ones shipped in its wheel.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

import player_web
from streamcore.web.service import NotFound

PLAYER_DIR = player_web.DIR
VENDOR = {
    "hls.min.js": Path("node_modules/hls.js/dist/hls.min.js"),
    "dash.all.min.js": Path("node_modules/dashjs/dist/modern/umd/dash.all.min.js"),
}
_PAGE_SUFFIXES = {".html", ".js", ".css", ".svg", ".png", ".ico"}


def _file(relative: Path) -> web.FileResponse:
    path = PLAYER_DIR / relative
    if not path.is_file():
        raise NotFound(
            f"no player file {relative} (run `make install` to fetch the player's libraries; "
            "a wheel must be built after `npm ci --prefix player_web`)"
        )
    # Revalidated on each load (ETag from aiohttp): the page changes with every release.
    return web.FileResponse(path, headers={"Cache-Control": "no-cache"})


async def page(request: web.Request) -> web.StreamResponse:
    name = request.match_info.get("name") or "index.html"
    if "/" in name or name.startswith(".") or Path(name).suffix not in _PAGE_SUFFIXES:
        raise NotFound("no such player file")
    return _file(Path(name))


async def vendor(request: web.Request) -> web.StreamResponse:
    relative = VENDOR.get(request.match_info["name"])
    if relative is None:
        raise NotFound("no such vendor file")
    return _file(relative)


async def redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMovedPermanently(
        f"/player/{'?' + request.query_string if request.query_string else ''}"
    )


routes = [
    web.get("/player", redirect),
    web.get("/player/", page),
    web.get("/player/vendor/{name}", vendor),
    web.get("/player/{name}", page),
]
