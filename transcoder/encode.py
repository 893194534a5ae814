"""Run the planned ladder and the frame extractions; return the files they produced."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from transcoder import ffmpeg_args, layout
from transcoder.ladder import ImagesConfig, LadderPlan
from transcoder.probe import SourceInfo
from transcoder.runner import run_ffmpeg

log = logging.getLogger(__name__)


class EncodeError(Exception):
    """FFmpeg exited cleanly but did not write what the plan asked for."""


@dataclass(frozen=True)
class Track:
    kind: Literal["video", "audio"]
    name: str  # the rendition name ("720p") or the audio track name ("aac")
    directory: Path
    init: Path
    segments: tuple[Path, ...]


@dataclass(frozen=True)
class EncodeResult:
    video: tuple[Track, ...]
    audio: Track | None
    elapsed_s: float

    @property
    def tracks(self) -> tuple[Track, ...]:
        return self.video + ((self.audio,) if self.audio is not None else ())


@dataclass(frozen=True)
class Frames:
    poster: Path
    storyboard: tuple[Path, ...]  # thumbnail k shows time (k - 1) * interval_s
    interval_s: float


def encode_ladder(
    source: SourceInfo,
    plan: LadderPlan,
    out_dir: Path,
    ffmpeg: Path,
    on_progress: Callable[[float], None] | None,
    timeout_s: float,
) -> EncodeResult:
    """Encode every rendition and the audio in one FFmpeg process, into `out_dir`."""
    for rendition in plan.renditions:
        layout.video_dir(out_dir, rendition.name).mkdir(parents=True, exist_ok=True)
    if plan.audio is not None:
        layout.audio_dir(out_dir).mkdir(parents=True, exist_ok=True)
    argv = ffmpeg_args.ladder_argv(ffmpeg, source.path, plan, out_dir)
    started = time.monotonic()
    run_ffmpeg(argv, timeout_s=timeout_s, duration_s=source.duration_s, on_progress=on_progress)
    elapsed = time.monotonic() - started
    video = tuple(
        _collect("video", rendition.name, layout.video_dir(out_dir, rendition.name))
        for rendition in plan.renditions
    )
    audio = _collect("audio", layout.AUDIO_TRACK, layout.audio_dir(out_dir)) if plan.audio else None
    log.info(
        "encoded %d renditions of %.1f s in %.1f s (%.2fx real time)",
        len(video),
        source.duration_s,
        elapsed,
        source.duration_s / elapsed if elapsed else math.inf,
    )
    return EncodeResult(video=video, audio=audio, elapsed_s=elapsed)


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


def extract_frames(
    source: SourceInfo,
    frames_dir: Path,
    ffmpeg: Path,
    *,
    images: ImagesConfig,
    timeout_s: float,
) -> Frames:
    """A poster candidate (PNG at display size, capped) and storyboard thumbnails."""
    frames_dir.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout_s
    poster = _extract_poster(source, frames_dir / "poster.png", ffmpeg, images, timeout_s)
    interval = max(
        images.storyboard_interval_s, source.duration_s / images.storyboard_max_thumbnails
    )
    thumbs = _extract_storyboard(
        source,
        frames_dir / "storyboard",
        ffmpeg,
        interval_s=interval,
        width=images.storyboard_width,
        timeout_s=max(1.0, deadline - time.monotonic()),
    )
    return Frames(poster=poster, storyboard=thumbs, interval_s=interval)


def _extract_poster(
    source: SourceInfo, poster: Path, ffmpeg: Path, images: ImagesConfig, timeout_s: float
) -> Path:
    width, height = _fit(source, max(images.poster_widths))
    argv = ffmpeg_args.poster_argv(
        ffmpeg,
        source.path,
        poster,
        start_s=source.duration_s * images.poster_skip_ratio,
        window_s=images.poster_window_s,
        width=width,
        height=height,
    )
    run_ffmpeg(argv, timeout_s=timeout_s)
    if not poster.is_file():
        raise EncodeError("FFmpeg wrote no poster frame")
    return poster


def _extract_storyboard(
    source: SourceInfo,
    folder: Path,
    ffmpeg: Path,
    *,
    interval_s: float,
    width: int,
    timeout_s: float,
) -> tuple[Path, ...]:
    folder.mkdir(exist_ok=True)
    fitted_w, fitted_h = _fit(source, width)
    argv = ffmpeg_args.storyboard_argv(
        ffmpeg, source.path, folder, interval_s=interval_s, width=fitted_w, height=fitted_h
    )
    run_ffmpeg(argv, timeout_s=timeout_s)
    # The fps filter may emit one frame at the very end; keep those inside the duration.
    written = len(list(folder.glob("thumb_*.png")))
    count = min(written, max(1, math.ceil(source.duration_s / interval_s)))
    thumbs = tuple(folder / f"thumb_{number:05d}.png" for number in range(1, count + 1))
    if not thumbs or not all(path.is_file() for path in thumbs):
        raise EncodeError("FFmpeg wrote no storyboard thumbnails")
    return thumbs


def _fit(source: SourceInfo, max_width: int) -> tuple[int, int]:
    """Display size scaled down (never up) to at most `max_width`, even dimensions."""
    display_w, display_h = source.video.display_width, source.video.display_height
    width = min(display_w, max_width)
    height = display_h * width / display_w
    return max(2, 2 * round(width / 2)), max(2, 2 * round(height / 2))
