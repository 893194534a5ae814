"""Run the planned ladder, with the poster and storyboard frames, and return its files."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from transcoder import ffmpeg_args, layout
from transcoder.ladder import FramePlan, LadderPlan
from transcoder.probe import SourceInfo, SubtitleInfo
from transcoder.runner import run_ffmpeg

log = logging.getLogger(__name__)


class EncodeError(Exception):
    """FFmpeg exited cleanly but did not write what the plan asked for."""


@dataclass(frozen=True)
class Track:
    kind: Literal["video", "audio"]
    name: str  # the rendition name ("720p") or the audio rendition's ("en-2ch")
    directory: Path
    init: Path
    segments: tuple[Path, ...]


@dataclass(frozen=True)
class Frames:
    poster: Path
    storyboard: tuple[Path, ...]  # thumbnail k shows time (k - 1) * interval_s
    interval_s: float


@dataclass(frozen=True)
class EncodeResult:
    video: tuple[Track, ...]  # the SDR ladder's, then the HDR one's (plan.video_renditions)
    audio: tuple[Track, ...]  # in the plan's order
    frames: Frames | None  # when the plan asked for them
    elapsed_s: float

    @property
    def tracks(self) -> tuple[Track, ...]:
        return self.video + self.audio


def encode_ladder(
    source: SourceInfo,
    plan: LadderPlan,
    out_dir: Path,
    ffmpeg: Path,
    on_progress: Callable[[float], None] | None,
    timeout_s: float,
    frames: FramePlan | None = None,
) -> EncodeResult:
    """Encode every rendition and the audio in one FFmpeg process, into `out_dir`; with
    `frames`, that process also writes the poster and storyboard frames."""
    if frames is not None:
        frames.storyboard_dir.mkdir(parents=True, exist_ok=True)
    for rendition in plan.video_renditions:
        layout.video_dir(out_dir, rendition.name).mkdir(parents=True, exist_ok=True)
    for audio_plan in plan.audio:
        layout.audio_dir(out_dir, audio_plan.name).mkdir(parents=True, exist_ok=True)
    argv = ffmpeg_args.ladder_argv(ffmpeg, source.path, plan, out_dir, frames)
    started = time.monotonic()
    run_ffmpeg(argv, timeout_s=timeout_s, duration_s=source.duration_s, on_progress=on_progress)
    elapsed = time.monotonic() - started
    video = tuple(
        _collect("video", rendition.name, layout.video_dir(out_dir, rendition.name))
        for rendition in plan.video_renditions
    )
    audio = tuple(
        _collect("audio", audio_plan.name, layout.audio_dir(out_dir, audio_plan.name))
        for audio_plan in plan.audio
    )
    log.info(
        "encoded %d renditions of %.1f s in %.1f s (%.2fx real time)",
        len(video),
        source.duration_s,
        elapsed,
        source.duration_s / elapsed if elapsed else math.inf,
    )
    collected = _collect_frames(frames) if frames is not None else None
    return EncodeResult(video=video, audio=audio, frames=collected, elapsed_s=elapsed)


def _collect(kind: Literal["video", "audio"], name: str, directory: Path) -> Track:
    (directory / layout.SCRATCH_PLAYLIST).unlink(missing_ok=True)
    init = directory / layout.INIT_NAME
    segments = tuple(sorted(directory.glob(layout.SEGMENT_GLOB)))
    expected = [
        directory / (layout.SEGMENT_PATTERN % number)
        for number in range(layout.FIRST_SEGMENT_NUMBER, len(segments) + 1)
    ]
    if not init.is_file() or not segments or list(segments) != expected:
        raise EncodeError(f"{kind} track {name}: FFmpeg wrote no complete init + segment set")
    return Track(kind=kind, name=name, directory=directory, init=init, segments=segments)


def _collect_frames(frames: FramePlan) -> Frames:
    if not frames.poster.is_file():
        raise EncodeError("FFmpeg wrote no poster frame")
    # The fps filter may emit one frame at the very end; keep those inside the duration.
    written = len(list(frames.storyboard_dir.glob("thumb_*.png")))
    count = min(written, frames.thumbnail_limit)
    thumbs = tuple(
        frames.storyboard_dir / f"thumb_{number:05d}.png" for number in range(1, count + 1)
    )
    if not thumbs or not all(path.is_file() for path in thumbs):
        raise EncodeError("FFmpeg wrote no storyboard thumbnails")
    return Frames(poster=frames.poster, storyboard=thumbs, interval_s=frames.interval_s)


@dataclass(frozen=True)
class ExtractedSubtitles:
    track: SubtitleInfo
    path: Path  # WebVTT


def extract_subtitles(
    source: SourceInfo, out_dir: Path, ffmpeg: Path, timeout_s: float
) -> list[ExtractedSubtitles]:
    """Every text subtitle stream of the source as a WebVTT file in `out_dir` (one FFmpeg run,
    demuxing only). Raises FFmpegError when FFmpeg fails: the caller decides what that costs."""
    if not source.subtitle_tracks:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = [(track, out_dir / f"subtitles_{track.index}.vtt") for track in source.subtitle_tracks]
    argv = ffmpeg_args.subtitles_argv(
        ffmpeg, source.path, [(track.index, path) for track, path in wanted]
    )
    run_ffmpeg(argv, timeout_s=timeout_s, duration_s=source.duration_s, on_progress=None)
    return [ExtractedSubtitles(track, path) for track, path in wanted if path.is_file()]
