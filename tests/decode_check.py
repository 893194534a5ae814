"""FFmpeg as a client: decode a manifest and judge the decode by what a viewer would notice.

A decode is good when FFmpeg exits 0, every stream it found decoded to the expected duration
(the sum of its decoded frames' durations, so a missing segment in the middle counts too),
and stderr (at `-v error`) holds nothing but the known benign lines below. "stderr is empty"
is not the test: FFmpeg releases differ in what they log at error level for a clean decode.

Frames are counted from FFmpeg's own `framecrc` output (`transcoder.ffmpeg_args.
decode_check_argv`), without ffprobe: the imageio-ffmpeg wheel ships none.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from transcoder.ffmpeg_args import decode_check_argv

# Lines FFmpeg logs at error level that do not mean anything went wrong with the decode.
BENIGN_STDERR = (
    # FFmpeg 5.1's HLS demuxer keeps its HTTP connection alive and first tries to reuse it for
    # the next URL, even one on another host (a viewer's master lists the edge's pathway and
    # the origin's). The HTTP layer refuses with this line at error level; the demuxer then
    # opens a new connection and reads the URL (its warning saying so is below -v error).
    # Every frame is decoded and FFmpeg exits 0; newer releases (the wheel's) log nothing.
    re.compile(
        r"\[http @ 0x[0-9a-f]+\] Cannot reuse HTTP connection for different host: "
        r"\S+:\d+ != \S+:\d+"
    ),
)
# framecrc lines: "#tb 0: 1/25", "#media_type 0: video", then per frame
# "stream, dts, pts, duration, size, checksum".
_TIME_BASE = re.compile(r"#tb (\d+): (\d+)/(\d+)")
_MEDIA_TYPE = re.compile(r"#media_type (\d+): (\w+)")


@dataclass(frozen=True)
class StreamDecode:
    index: int
    media_type: str  # "video" or "audio"
    frames: int
    seconds: float  # the sum of the decoded frames' durations


@dataclass(frozen=True)
class Decode:
    url: str
    returncode: int
    streams: list[StreamDecode]
    unexpected_stderr: list[str]


def decode(ffmpeg: Path, url: str | Path, *, timeout_s: float = 120, streams: str = "0") -> Decode:
    """Decode every stream of `url` (or those `streams` maps) with `ffmpeg`; summarise."""
    result = subprocess.run(
        decode_check_argv(ffmpeg, url, streams),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    unexpected = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not any(pattern.fullmatch(line) for pattern in BENIGN_STDERR)
    ]
    return Decode(str(url), result.returncode, _streams(result.stdout), unexpected)


def _streams(framecrc: str) -> list[StreamDecode]:
    time_bases: dict[int, Fraction] = {}
    media_types: dict[int, str] = {}
    frames: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for line in framecrc.splitlines():
        if match := _TIME_BASE.fullmatch(line):
            time_bases[int(match[1])] = Fraction(int(match[2]), int(match[3]))
        elif match := _MEDIA_TYPE.fullmatch(line):
            media_types[int(match[1])] = match[2]
        elif line and not line.startswith("#"):
            index, _dts, _pts, duration, *_ = (field.strip() for field in line.split(","))
            frames[int(index)] = frames.get(int(index), 0) + 1
            ticks[int(index)] = ticks.get(int(index), 0) + int(duration)
    return [
        StreamDecode(
            index=index,
            media_type=media_types.get(index, "?"),
            frames=frames.get(index, 0),
            seconds=float(ticks.get(index, 0) * time_base),
        )
        for index, time_base in sorted(time_bases.items())
    ]


def assert_plays(
    ffmpeg: Path,
    url: str | Path,
    *,
    duration_s: float,
    streams: int | None = None,
    mapped: str = "0",
) -> Decode:
    """`ffmpeg` decodes every stream of `url` to `duration_s`, cleanly; returns the decode.

    `streams`, when given, is how many streams the manifest must expose (every rendition of
    every pathway, and the audio). `mapped` narrows the decode (``0:1``: the second stream).
    """
    decoded = decode(ffmpeg, url, streams=mapped)
    assert decoded.returncode == 0, decoded
    assert decoded.unexpected_stderr == [], decoded
    assert decoded.streams, decoded
    if streams is not None:
        assert len(decoded.streams) == streams, decoded
    for stream in decoded.streams:
        # A video frame (40 ms at 25 fps) or an AAC frame (21 ms at 48 kHz) either way:
        # the encoder pads the last audio frame, and the last video frame's duration is nominal.
        assert abs(stream.seconds - duration_s) <= 0.05, (stream, decoded.url)
    return decoded
