"""Static pages shipped as package data (the web player, the admin dashboard): a folder's own
files and a few named vendor builds, nothing else of it.

aiohttp's `add_static` would serve the whole folder (node_modules included); these pages
need an allow-list instead: their own files by suffix, and the vendor builds by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from streamcore.web.service import NotFound

PAGE_SUFFIXES = frozenset({".html", ".js", ".css", ".svg", ".png", ".ico"})


@dataclass(frozen=True)
class StaticFolder:
    directory: Path
    vendor: Mapping[str, Path]  # public name -> path under `directory`
    missing: str  # what to run when a file is absent (a source tree without its npm install)
    headers: Mapping[str, str] = field(default_factory=lambda: {"Cache-Control": "no-cache"})
    suffixes: frozenset[str] = PAGE_SUFFIXES

    def file(self, relative: Path) -> web.FileResponse:
        path = self.directory / relative
        if not path.is_file():
            raise NotFound(f"no file {relative} ({self.missing})")
        # Revalidated on each load (ETag from aiohttp): the page changes with every release.
        return web.FileResponse(path, headers=dict(self.headers))

    async def page(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name") or "index.html"
        if "/" in name or name.startswith(".") or Path(name).suffix not in self.suffixes:
            raise NotFound("no such file")
        return self.file(Path(name))

    async def vendor_file(self, request: web.Request) -> web.StreamResponse:
        relative = self.vendor.get(request.match_info["name"])
        if relative is None:
            raise NotFound("no such vendor file")
        return self.file(relative)

    def routes(self, prefix: str) -> list[web.RouteDef]:
        """`prefix` redirects to `prefix/`, the index; `prefix/vendor/{name}`, `prefix/{name}`."""

        async def redirect(request: web.Request) -> web.StreamResponse:
            query = f"?{request.query_string}" if request.query_string else ""
            raise web.HTTPMovedPermanently(f"{prefix}/{query}")

        return [
            web.get(prefix, redirect),
            web.get(f"{prefix}/", self.page),
            web.get(f"{prefix}/vendor/{{name}}", self.vendor_file),
            web.get(f"{prefix}/{{name}}", self.page),
        ]
