"""Which budget a request spends: its endpoint class.

Each service names its special routes in a table (``"METHOD /canonical/path" -> RateClass``,
like its permission table): sign-in and sign-up are LOGIN, uploads UPLOAD, the origin's and
the edge's files MEDIA. Any other route is a READ (GET, HEAD) or a WRITE. Health checks,
metrics and diagnostics are never limited (the gateway and Prometheus poll them), nor are
CORS preflights. A path no route matches is a READ: probing for URLs costs budget too.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from aiohttp import web

from streamcore.auth.middleware import route_key


class RateClass(enum.StrEnum):
    READ = "read"
    WRITE = "write"
    UPLOAD = "upload"
    LOGIN = "login"
    MEDIA = "media"
    UNLIMITED = "unlimited"


_UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_UNLIMITED_PREFIXES = ("/diag/",)
_READS = frozenset({"GET", "HEAD"})


def unlimited_path(path: str) -> bool:
    """Health checks, metrics and diagnostics: never limited."""
    return path in _UNLIMITED_PATHS or path.startswith(_UNLIMITED_PREFIXES)


def class_of(request: web.Request, table: Mapping[str, RateClass]) -> RateClass:
    if request.method == "OPTIONS":
        return RateClass.UNLIMITED
    key = route_key(request)
    if key is not None and (named := table.get(key)) is not None:
        return named
    if unlimited_path(request.path):
        return RateClass.UNLIMITED
    return RateClass.READ if request.method in _READS else RateClass.WRITE
