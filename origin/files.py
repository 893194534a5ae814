"""What the origin serves: file kinds by suffix, with their content type and cache policy."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import PurePosixPath

YEAR = 31536000


class Kind(enum.Enum):
    PLAYLIST = "playlist"
    MPD = "mpd"
    VTT = "vtt"
    INIT = "init"
    SEGMENT = "segment"
    IMAGE = "image"


@dataclass(frozen=True)
class Policy:
    cache_control: str
    compressible: bool  # text: gzip for clients that accept it
    memory_cached: bool  # small and hot: held in the origin's memory cache
    rewritable: bool  # carries URIs that query-mode tokens must be added to
    disk_cached: bool = False  # large and hot: kept on the origin's disk (origin/disk_cache.py)


# Everything lives under a versioned path (assets/{id}/v{n}/): a reprocess writes a new version,
# so bytes at a given path never change and may be cached as immutable. Manifests get a shorter,
# purgeable lifetime all the same, because deleting an asset must take effect within minutes.
# Title images (/titles/{id}/{sha12}/) are named by their content's hash: immutable as well.
POLICIES: dict[Kind, Policy] = {
    Kind.PLAYLIST: Policy("public, max-age=300, s-maxage=86400", True, True, True),
    Kind.MPD: Policy("public, max-age=300, s-maxage=86400", True, True, True),
    Kind.VTT: Policy("public, max-age=86400", True, True, True),
    Kind.INIT: Policy(f"public, max-age={YEAR}, immutable", False, True, False),
    Kind.SEGMENT: Policy(f"public, max-age={YEAR}, immutable", False, False, False, True),
    Kind.IMAGE: Policy(f"public, max-age={YEAR}, immutable", False, False, False),
}

_BY_SUFFIX = {
    ".m3u8": Kind.PLAYLIST,
    ".mpd": Kind.MPD,
    ".vtt": Kind.VTT,
    ".m4s": Kind.SEGMENT,
    ".jpg": Kind.IMAGE,
    ".jpeg": Kind.IMAGE,
    ".webp": Kind.IMAGE,
    ".png": Kind.IMAGE,
}


def kind_of(path: str) -> Kind | None:
    name = PurePosixPath(path).name
    if name == "init.mp4":
        return Kind.INIT
    return _BY_SUFFIX.get(PurePosixPath(name).suffix.lower())
