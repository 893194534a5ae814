"""The shipped config files (``dev.yaml``, ``test.yaml``, ``prod.yaml``, ``ladder.yaml``,
``plans.yaml``, and ``prometheus.yaml``, an example scrape config for the whole platform).

A package so that the files travel in the wheel as package data and are found the same way
from a source checkout and from an installed copy; `path()` is the one way to locate them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

LADDER = "ladder.yaml"
PLANS = "plans.yaml"


def path(name: str) -> Path:
    """The file `name` of this package, on disk.

    Installed packages are plain folders (wheels are unpacked, never imported zipped), so the
    resource is a real file: the settings loader and the ladder loader read paths, and error
    messages name them.
    """
    return Path(str(files(__name__) / name))
