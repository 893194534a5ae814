"""The runner against a real FFmpeg: these command lines are test material, not product code."""

from __future__ import annotations

import logging
import shlex
import time
from pathlib import Path

import psutil
import pytest

from transcoder.runner import STDERR_TAIL_LINES, FFmpegError, FFmpegTimeout, run_ffmpeg


def lavfi(ffmpeg: Path, source: str, *tail: str) -> list[str]:
    return [str(ffmpeg), "-hide_banner", "-nostdin", "-f", "lavfi", "-i", source, *tail]


def ours_still_running(argv: list[str]) -> list[psutil.Process]:
    """This test process's own children running `argv` (no system-wide scan)."""
    return [
        child
        for child in psutil.Process().children(recursive=True)
        if child.is_running() and child.status() != psutil.STATUS_ZOMBIE and child.cmdline() == argv
    ]


def test_progress_grows_to_one_and_the_command_is_logged(
    ffmpeg: Path, caplog: pytest.LogCaptureFixture
) -> None:
    argv = lavfi(
        ffmpeg, "testsrc2=size=64x64:rate=25:duration=3", "-progress", "pipe:1", "-f", "null", "-"
    )
    seen: list[float] = []
    with caplog.at_level(logging.INFO, logger="transcoder.runner"):
        run_ffmpeg(argv, timeout_s=60, duration_s=3.0, on_progress=seen.append)
    assert seen, "no progress reported"
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == 1.0 and all(0 < value <= 1 for value in seen)
    assert shlex.join(argv) in caplog.text


def test_a_failure_raises_with_ffmpegs_own_words(ffmpeg: Path, tmp_path: Path) -> None:
    argv = [str(ffmpeg), "-hide_banner", "-nostdin", "-i", str(tmp_path / "absent.mp4")]
    with pytest.raises(FFmpegError) as caught:
        run_ffmpeg([*argv, "-f", "null", "-"], timeout_s=60)
    assert not isinstance(caught.value, FFmpegTimeout)
    assert "exited with status" in caught.value.message
    assert "No such file or directory" in caught.value.stderr_tail


def test_only_the_tail_of_a_long_stderr_is_kept(ffmpeg: Path, tmp_path: Path) -> None:
    # Debug logging writes hundreds of lines before failing to open the output.
    argv = lavfi(
        ffmpeg, "testsrc2=size=64x64:rate=25:duration=1", "-loglevel", "debug",
        str(tmp_path / "missing-folder" / "out.mp4"),
    )  # fmt: skip
    with pytest.raises(FFmpegError) as caught:
        run_ffmpeg(argv, timeout_s=60)
    lines = caught.value.stderr_tail.splitlines()
    assert 0 < len(lines) <= STDERR_TAIL_LINES
    assert "missing-folder" in caught.value.stderr_tail


def test_a_command_past_its_time_limit_is_stopped(ffmpeg: Path) -> None:
    # No duration: this source never ends; -re keeps it cheap while it waits to be stopped.
    argv = lavfi(ffmpeg, "testsrc2=size=64x64:rate=25", "-f", "null", "-")
    argv.insert(argv.index("-f"), "-re")
    started = time.monotonic()
    with pytest.raises(FFmpegTimeout) as caught:
        run_ffmpeg(argv, timeout_s=1.0)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 5.0, "SIGTERM should stop FFmpeg well within the grace period"
    assert "time limit" in caught.value.message
    assert not ours_still_running(argv)


def test_a_failing_progress_callback_stops_ffmpeg(ffmpeg: Path) -> None:
    argv = lavfi(ffmpeg, "testsrc2=size=64x64:rate=25", "-progress", "pipe:1", "-f", "null", "-")
    argv.insert(argv.index("-f"), "-re")

    def cancel(fraction: float) -> None:
        raise RuntimeError("task revoked")

    started = time.monotonic()
    with pytest.raises(RuntimeError, match="task revoked"):
        run_ffmpeg(argv, timeout_s=60, duration_s=10.0, on_progress=cancel)
    assert time.monotonic() - started < 10.0
    assert not ours_still_running(argv)
