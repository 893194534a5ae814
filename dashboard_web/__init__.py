"""The admin dashboard's static files (README.md), shipped as package data.

A package so that the page and the pinned Chart.js build from ``node_modules/`` (installed by
``npm ci --prefix dashboard_web`` before the wheel is built) travel in the wheel; `DIR` is
where they are, in a source checkout and in an installed copy alike.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# A plain folder once installed (wheels are unpacked, never imported zipped).
DIR = Path(str(files(__name__)))
