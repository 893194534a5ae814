"""FFmpeg discovery: every version string shape, and the supported minimum checked at start."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streamcore.binaries import (
    MINIMUM_FFMPEG,
    UnsupportedFFmpeg,
    ffmpeg_release,
    find_ffmpeg,
    imageio_ffmpeg,
)


@pytest.mark.parametrize(
    ("version", "release"),
    [
        ("5.1.9-0+deb12u1", (5, 1, 9)),  # Debian 12
        ("6.1.1-3ubuntu5", (6, 1, 1)),  # Ubuntu 24.04
        ("n7.1", (7, 1, 0)),  # a tag build
        ("7.1-static", (7, 1, 0)),  # johnvansickle.com's static builds
        ("n9.0.2-17-g2a571b6068-20260930", (9, 0, 2)),  # the imageio-ffmpeg wheel's
        ("4.4.2-0ubuntu0.22.04.1", (4, 4, 2)),
        ("N-118923-g1b2c3d4e5f-20250301", None),  # a git build: no release
    ],
)
def test_every_version_shape_parses(version: str, release: tuple[int, int, int] | None) -> None:
    assert ffmpeg_release(version) == release


def fake_ffmpeg(folder: Path, version: str) -> Path:
    """An executable answering `-version` as that FFmpeg does: no FFmpeg this old (or this
    unreleased) is installed here, and only its version line is read."""
    path = folder / "ffmpeg"
    path.write_text(f'#!/bin/sh\necho "ffmpeg version {version} Copyright (c) 2000-2022"\n')
    path.chmod(0o755)
    return path


def test_an_ffmpeg_older_than_the_minimum_is_refused_naming_it(tmp_path: Path) -> None:
    old = fake_ffmpeg(tmp_path, "4.4.2-0ubuntu0.22.04.1")
    with pytest.raises(UnsupportedFFmpeg) as caught:
        find_ffmpeg(old)
    message = str(caught.value)
    assert MINIMUM_FFMPEG == (5, 1)
    assert "4.4.2-0ubuntu0.22.04.1" in message and "5.1 or newer" in message
    assert str(old) in message and str(imageio_ffmpeg()) in message  # the way out


def test_a_git_build_is_accepted_with_its_version_unknown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    git = fake_ffmpeg(tmp_path, "N-118923-g1b2c3d4e5f-20250301")
    with caplog.at_level(logging.WARNING, logger="streamcore.binaries"):
        info = find_ffmpeg(git)
    assert info.release is None and info.source == "settings"
    assert "version is unknown" in caplog.text


def test_the_wheels_ffmpeg_is_supported() -> None:
    info = find_ffmpeg(imageio_ffmpeg())
    assert info.release is not None and info.release[:2] >= MINIMUM_FFMPEG
