"""The routes a service's OpenAPI document must describe: shared by every service's tests."""

from __future__ import annotations

import re

from aiohttp import web


def served_routes(app: web.Application, undocumented: re.Pattern[str]) -> set[tuple[str, str]]:
    """(METHOD, canonical path) of every route but HEAD/OPTIONS and the `undocumented` paths."""
    routes = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method in ("HEAD", "OPTIONS", "*") or undocumented.match(path):
            continue
        routes.add((route.method, path))
    return routes
