"""The one way StreamCore runs FFmpeg: logged, bounded in time, progress-reporting.

Synchronous on purpose: it runs inside Celery worker processes. Both pipes are read with
`selectors` from the calling thread, so neither can fill up and block FFmpeg, and the
progress callback runs on the caller's thread.
"""

from __future__ import annotations

import logging
import os
import selectors
import shlex
import subprocess
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 30
# After SIGTERM FFmpeg finishes writing its current packet and trailers; then SIGKILL.
TERMINATE_GRACE_S = 5.0
_POLL_S = 0.5

ProgressCallback = Callable[[float], None]


class FFmpegError(Exception):
    """FFmpeg failed; `stderr_tail` holds its last lines, the reason in its own words."""

    def __init__(self, message: str, stderr_tail: str) -> None:
        super().__init__(f"{message}\n{stderr_tail}" if stderr_tail else message)
        self.message = message
        self.stderr_tail = stderr_tail


class FFmpegTimeout(FFmpegError):
    """FFmpeg ran past its time limit and was stopped."""


@dataclass
class _Capture:
    """What FFmpeg says: -progress key=value blocks as a 0..1 fraction, and a stderr tail."""

    duration_s: float | None
    callback: ProgressCallback | None
    last: float = 0.0
    pending: bytes = b""
    stderr: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL_LINES))

    def feed_stdout(self, chunk: bytes) -> None:
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        for line in lines:
            key, _, value = line.decode(errors="replace").strip().partition("=")
            self._on_pair(key, value)

    def _on_pair(self, key: str, value: str) -> None:
        fraction: float | None = None
        if key == "progress" and value == "end":
            fraction = 1.0
        # out_time_ms is in microseconds too (an old FFmpeg naming mistake kept for compat).
        elif key in ("out_time_us", "out_time_ms") and self.duration_s and value.isdigit():
            fraction = min(1.0, int(value) / 1e6 / self.duration_s)
        if fraction is not None and fraction > self.last:
            self.last = fraction
            if self.callback is not None:
                self.callback(fraction)


def run_ffmpeg(
    argv: Sequence[str],
    *,
    timeout_s: float,
    duration_s: float | None = None,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Run FFmpeg to completion or raise `FFmpegError` (`FFmpegTimeout` past `timeout_s`).

    `on_progress` gets a growing fraction in 0..1 when `duration_s` is known and the
    command writes ``-progress pipe:1``.
    """
    log.info("running: %s", shlex.join(argv))
    capture = _Capture(duration_s, on_progress)
    started = time.monotonic()
    deadline = started + timeout_s
    process = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        returncode = _pump(process, capture, deadline=deadline)
    except BaseException:
        # A failing progress callback or a Celery time limit must not leave FFmpeg running.
        _stop(process)
        raise
    finally:
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    if returncode is None:
        _stop(process)
        raise FFmpegTimeout(
            f"ffmpeg was stopped after {timeout_s:g} s (time limit)", _tail(capture)
        )
    if returncode != 0:
        raise FFmpegError(f"ffmpeg exited with status {returncode}", _tail(capture))
    log.info("ffmpeg finished in %.1f s", time.monotonic() - started)


def _pump(process: subprocess.Popen[bytes], capture: _Capture, *, deadline: float) -> int | None:
    """Read both pipes to EOF, then reap: the exit status, or None past the deadline."""
    assert process.stdout is not None and process.stderr is not None
    stderr_pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, "stdout")
        selector.register(process.stderr, selectors.EVENT_READ, "stderr")
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            for key, _ in selector.select(timeout=min(remaining, _POLL_S)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data == "stdout":
                    capture.feed_stdout(chunk)
                else:
                    stderr_pending += chunk
                    *lines, stderr_pending = stderr_pending.split(b"\n")
                    capture.stderr.extend(line.decode(errors="replace") for line in lines)
    if stderr_pending:
        capture.stderr.append(stderr_pending.decode(errors="replace"))
    try:
        return process.wait(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate, give FFmpeg a grace period to exit, then kill; always reap."""
    process.terminate()
    try:
        process.wait(timeout=TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        log.warning("ffmpeg ignored SIGTERM for %.0f s; killing it", TERMINATE_GRACE_S)
        process.kill()
        process.wait()


def _tail(capture: _Capture) -> str:
    return "\n".join(line.rstrip("\r") for line in capture.stderr if line.strip())
