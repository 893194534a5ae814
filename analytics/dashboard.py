"""The admin dashboard's page (`dashboard_web/`), served as static files under /admin/dashboard/.

The page holds no data: it signs an admin in and reads the analytics API with that token, so
a viewer's token is refused there (403), whatever page it loads. Only the page's own files
and the pinned Chart.js build are reachable (streamcore/web/static.py).
"""

from __future__ import annotations

from pathlib import Path

import dashboard_web
from streamcore.web.static import StaticFolder

PREFIX = "/admin/dashboard"
FOLDER = StaticFolder(
    dashboard_web.DIR,
    vendor={"chart.umd.min.js": Path("node_modules/chart.js/dist/chart.umd.min.js")},
    missing="run `make install` to fetch Chart.js; a wheel must be built after "
    "`npm ci --prefix dashboard_web`",
    # Scripts, styles and connections (the API, the WebSocket) from this origin only.
    headers={
        "Cache-Control": "no-cache",
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff",
    },
    suffixes=frozenset({".html", ".js", ".css"}),
)
routes = FOLDER.routes(PREFIX)
