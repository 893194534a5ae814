"""The bundled web player (`player_web/`), served as static files under /player/.

Only the page's own files and the two pinned vendor builds are served: nothing else from
`player_web/` (package files, the rest of node_modules) is reachable (streamcore/web/static.py).
The files are package data of `player_web`, so an installed copy serves the ones shipped in
its wheel.
"""

from __future__ import annotations

from pathlib import Path

import player_web
from streamcore.web.static import StaticFolder

PLAYER_DIR = player_web.DIR
VENDOR = {
    "hls.min.js": Path("node_modules/hls.js/dist/hls.min.js"),
    "dash.all.min.js": Path("node_modules/dashjs/dist/modern/umd/dash.all.min.js"),
}
FOLDER = StaticFolder(
    PLAYER_DIR,
    vendor=VENDOR,
    missing="run `make install` to fetch the player's libraries; a wheel must be built after "
    "`npm ci --prefix player_web`",
)
routes = FOLDER.routes("/player")
