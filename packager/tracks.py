"""Tracks as measured from their files: what both manifest writers describe.

Durations, sizes and bit rates come from the segments themselves, never from the plan, so
a manifest cannot promise what the media does not hold.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

from packager.bmff import InitInfo, SegmentInfo, read_init, read_segment

VideoRange = Literal["SDR", "PQ", "HLG"]
_NUMBERED = re.compile(r"^(?P<prefix>[^$]*?)(?P<number>\d+)(?P<suffix>\.[A-Za-z0-9]+)$")


class PackageError(Exception):
    """The encoded tracks cannot be described honestly (gaps, missing keyframes...)."""


@dataclass(frozen=True)
class AudioLabel:
    """What a player's audio menu shows of an audio rendition, and which one it starts with."""

    language: str = "und"  # BCP 47
    name: str = "Audio"  # unique among the presentation's audio renditions
    default: bool = False
    commentary: bool = False


@dataclass(frozen=True)
class MeasuredTrack:
    kind: Literal["video", "audio"]
    name: str
    init_path: Path
    init: InitInfo
    segments: tuple[SegmentInfo, ...]
    frame_rate: Fraction | None
    label: AudioLabel | None = None  # audio only
    # Video: "SDR", or "PQ" / "HLG" for an HDR rendition (HLS VIDEO-RANGE's values).
    video_range: VideoRange = "SDR"

    @property
    def is_hdr(self) -> bool:
        return self.video_range != "SDR"

    @property
    def timescale(self) -> int:
        return self.init.timescale

    def seconds(self, ticks: int) -> float:
        return ticks / self.init.timescale

    @property
    def duration_s(self) -> float:
        return self.seconds(sum(segment.duration for segment in self.segments))

    @property
    def end_s(self) -> float:
        """When the last segment ends, on the media timeline (which may not start at 0)."""
        last = self.segments[-1]
        return self.seconds(last.presentation_start + last.duration)

    @property
    def target_duration(self) -> int:
        """Whole seconds, rounded up, of the longest segment (HLS EXT-X-TARGETDURATION)."""
        return max(-(-segment.duration // self.timescale) for segment in self.segments)

    @property
    def peak_bitrate(self) -> int:
        """The peak segment bit rate as HLS defines it (RFC 8216bis, 4.4.6.2).

        The largest bit rate of any run of consecutive segments lasting between 0.5 and 1.5
        target durations, so a short last segment is judged together with its neighbour.
        """
        low, high = 0.5 * self.target_duration, 1.5 * self.target_duration
        best = 0.0
        for first in range(len(self.segments)):
            size, seconds = 0, 0.0
            for segment in self.segments[first:]:
                size += segment.size
                seconds += self.seconds(segment.duration)
                if seconds > high:
                    break
                if seconds >= low:
                    best = max(best, size * 8 / seconds)
        if best == 0.0:  # the whole track is shorter than half a target duration
            return self.average_bitrate
        return math.ceil(best)

    @property
    def average_bitrate(self) -> int:
        return math.ceil(sum(segment.size for segment in self.segments) * 8 / self.duration_s)

    def segment_template(self, relative_dir: str) -> tuple[str, int]:
        """A DASH ``media`` template matching the segment file names, and startNumber."""
        matches = [_NUMBERED.match(segment.path.name) for segment in self.segments]
        if not all(matches):
            raise PackageError(f"{self.name}: segment names are not numbered")
        first = matches[0]
        assert first is not None
        width, start = len(first["number"]), int(first["number"])
        for index, match in enumerate(matches):
            assert match is not None
            if (match["prefix"], match["suffix"]) != (first["prefix"], first["suffix"]) or (
                match["number"] != f"{start + index:0{width}d}"
            ):
                raise PackageError(f"{self.name}: segment numbers are not contiguous")
        return f"{relative_dir}/{first['prefix']}$Number%0{width}d${first['suffix']}", start


def measure(
    kind: Literal["video", "audio"],
    name: str,
    init: Path,
    segments: list[Path] | tuple[Path, ...],
    frame_rate: Fraction | None = None,
    label: AudioLabel | None = None,
    video_range: VideoRange = "SDR",
) -> MeasuredTrack:
    """Read a track's files and check it can be served as adaptive, seekable segments."""
    if not segments:
        raise PackageError(f"{kind} track {name} has no segments")
    info = read_init(init)
    if info.kind != kind:
        raise PackageError(f"{kind} track {name}: the init segment holds {info.kind}")
    measured = tuple(read_segment(path, info) for path in segments)
    for before, after in itertools.pairwise(measured):
        if after.start != before.start + before.duration:
            raise PackageError(f"{kind} track {name}: gap or overlap before {after.path.name}")
    for segment in measured:
        if not segment.starts_with_sync:
            raise PackageError(
                f"{kind} track {name}: {segment.path.name} starts without a keyframe"
            )
    if kind == "audio" and label is None:
        label = AudioLabel()
    return MeasuredTrack(kind, name, init, info, measured, frame_rate, label, video_range)
