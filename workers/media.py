"""The local media pipeline: one source file in, a folder ready to publish out.

Glue between the two leaf packages (no Celery, no storage, no database here): probe, plan,
encode the ladder (and the poster and storyboard frames, from the same decode), package
HLS + DASH, write images. The Celery task calls `build_outputs()` with a scratch folder and
uploads `BuildResult.files` from `BuildResult.output_dir` (segments already while FFmpeg is
still encoding: see workers/segment_uploads.py); everything is deterministic, so a retry
overwrites.

    <work_dir>/output/master.m3u8, manifest.mpd, video/..., audio/..., poster/..., storyboard/...

Errors: `PermanentMediaError` (bad input: retrying cannot help; `.reason` is the probe's
stable code) or `TranscodeError` (FFmpeg failed or ran out of time: may be transient).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packager import images
from packager.package import AudioLabel, PackageError, PackageResult, TrackInput, package
from packager.tracks import VideoRange
from transcoder.encode import (
    EncodeError,
    EncodeResult,
    ExtractedSubtitles,
    Frames,
    encode_ladder,
    extract_subtitles,
)
from transcoder.ladder import LadderConfig, LadderPlan, language_label, plan, plan_frames
from transcoder.levels import LevelError
from transcoder.probe import ProbeError, SourceInfo, probe
from transcoder.runner import FFmpegError

log = logging.getLogger(__name__)

OUTPUT_DIR = "output"
# The source's own text subtitles, as WebVTT: kept by the worker as caption tracks, not
# published with the ladder (captions are published into a version after it: workers/captions.py).
CAPTIONS_DIR = "captions"
# Progress: the encode (frames included) drives 0 to 0.9; manifests and images the rest.
ENCODE_SHARE = 0.9
PACKAGED = 0.93


class MediaError(Exception):
    """The pipeline could not turn this source into outputs."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermanentMediaError(MediaError):
    """The source itself is unusable (`reason` is a stable code, e.g. ``truncated``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class TranscodeError(MediaError):
    """FFmpeg failed or timed out, or its output could not be packaged."""

    def __init__(self, message: str, stderr_tail: str = "") -> None:
        super().__init__(message)
        self.stderr_tail = stderr_tail


@dataclass(frozen=True)
class BuildResult:
    source: dict[str, Any]  # JSON-able probe result
    renditions: list[dict[str, Any]]  # JSON-able, lowest first
    audio: list[dict[str, Any]]  # JSON-able, the default first
    output_dir: Path
    files: list[str]  # every file to publish, relative to output_dir, sorted
    # The source's text subtitle tracks as WebVTT files (in work_dir/captions):
    # {language, kind, label, path}.
    captions: list[dict[str, Any]] = field(default_factory=list)


def build_outputs(
    source_path: Path,
    work_dir: Path,
    *,
    ladder: LadderConfig,
    ffmpeg: Path,
    on_progress: Callable[[float], None],
    timeout_s: float,
    audio_languages: Sequence[str] = (),
) -> BuildResult:
    """Probe, plan, encode, package and illustrate `source_path` into `work_dir`/output.

    `audio_languages` overrides the source's audio language tags, in its stream order.
    """
    deadline = time.monotonic() + timeout_s
    source, ladder_plan = _inspect(source_path, ladder, audio_languages)
    output_dir = work_dir / OUTPUT_DIR
    # A retry starts clean: stale files from an earlier attempt are never published.
    shutil.rmtree(output_dir, ignore_errors=True)
    output_dir.mkdir(parents=True)
    log.info("building %s: %s", source_path.name, [r.name for r in ladder_plan.renditions])
    steps = _Steps(source, ladder_plan, ladder, work_dir, output_dir, ffmpeg, deadline)
    try:
        packaged, files = steps.run(on_progress)
    except BaseException:
        # Half an output is worse than none: nothing of a failed attempt is left behind.
        shutil.rmtree(output_dir, ignore_errors=True)
        raise
    captions, warnings = _embedded_captions(source, work_dir / CAPTIONS_DIR, ffmpeg, deadline)
    if warnings:
        source = replace(source, warnings=source.warnings + tuple(warnings))
    on_progress(1.0)
    return BuildResult(
        captions=captions,
        source=source.to_dict(),
        renditions=[rendition.to_dict() for rendition in packaged.renditions],
        audio=[audio.to_dict() for audio in packaged.audio],
        output_dir=output_dir,
        files=files,
    )


@dataclass(frozen=True)
class _Steps:
    """Encode, package, illustrate: FFmpeg and packaging failures become TranscodeError."""

    source: SourceInfo
    plan: LadderPlan
    ladder: LadderConfig
    work_dir: Path
    output_dir: Path
    ffmpeg: Path
    deadline: float

    def run(self, on_progress: Callable[[float], None]) -> tuple[PackageResult, list[str]]:
        # The extracted frames live in a scratch folder, removed once the images are written.
        with tempfile.TemporaryDirectory(prefix="frames-", dir=self.work_dir) as scratch:
            try:
                encoded = encode_ladder(
                    self.source,
                    self.plan,
                    self.output_dir,
                    self.ffmpeg,
                    lambda fraction: on_progress(fraction * ENCODE_SHARE),
                    _remaining(self.deadline),
                    plan_frames(self.source, self.ladder.images, Path(scratch)),
                )
                packaged = package(self.output_dir, _track_inputs(encoded, self.plan))
            except FFmpegError as exc:
                raise TranscodeError(exc.message, exc.stderr_tail) from exc
            except (EncodeError, PackageError) as exc:
                raise TranscodeError(str(exc)) from exc
            on_progress(PACKAGED)
            assert encoded.frames is not None  # asked for above
            image_files = self._images(encoded.frames)
        return packaged, _check_complete(self.output_dir, packaged, image_files)

    def _images(self, frames: Frames) -> list[Path]:
        """Posters and the storyboard (sprites + WebVTT), from the ladder's frames."""
        config = self.ladder.images
        written = images.write_posters(frames.poster, self.output_dir, config.poster_widths)
        written += images.write_storyboard(
            frames.storyboard,
            self.output_dir,
            interval_s=frames.interval_s,
            duration_s=self.source.duration_s,
            columns=config.storyboard_columns,
            rows=config.storyboard_rows,
        )
        return written


def _inspect(
    source_path: Path, ladder: LadderConfig, audio_languages: Sequence[str]
) -> tuple[SourceInfo, LadderPlan]:
    """Probe and plan: bad media is refused here, before anything is written."""
    limits = ladder.source_limits
    try:
        source = probe(
            source_path, max_pixels=limits.max_pixels, max_dimension=limits.max_dimension
        )
        return source, plan(source, ladder, audio_languages)
    except ProbeError as exc:
        raise PermanentMediaError(exc.reason, exc.message) from exc
    except LevelError as exc:
        raise PermanentMediaError("unsupported", str(exc)) from exc


def _embedded_captions(
    source: SourceInfo, out_dir: Path, ffmpeg: Path, deadline: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """The source's text subtitle tracks as WebVTT files; a failed extraction is a warning,
    never a failed build (the ladder is what the upload is for)."""
    if not source.subtitle_tracks:
        return [], []
    try:
        extracted = extract_subtitles(source, out_dir, ffmpeg, _remaining(deadline))
    except FFmpegError as exc:
        shutil.rmtree(out_dir, ignore_errors=True)
        return [], [f"the source's subtitle tracks could not be read: {exc.message}"]
    return [_caption(item) for item in extracted], []


def _caption(item: ExtractedSubtitles) -> dict[str, Any]:
    track = item.track
    kind = "captions" if track.hearing_impaired else "subtitles"
    label = track.title or language_label(track.language)
    if kind == "captions" and not track.title:
        label += " (CC)"
    return {"language": track.language, "kind": kind, "label": label, "path": str(item.path)}


def _track_inputs(encoded: EncodeResult, ladder_plan: LadderPlan) -> list[TrackInput]:
    hdr = {rendition.name for rendition in ladder_plan.hdr_renditions}
    hdr_range: VideoRange = "PQ" if ladder_plan.color.dynamic_range == "pq" else "HLG"
    inputs = [
        TrackInput(
            "video",
            track.name,
            track.init,
            track.segments,
            ladder_plan.fps,
            video_range=hdr_range if track.name in hdr else "SDR",
        )
        for track in encoded.video
    ]
    for track, audio in zip(encoded.audio, ladder_plan.audio, strict=True):
        label = AudioLabel(
            language=audio.language,
            name=audio.label,
            default=audio is ladder_plan.audio[0],
            commentary=audio.commentary,
        )
        inputs.append(TrackInput("audio", track.name, track.init, track.segments, label=label))
    return inputs


def _check_complete(
    output_dir: Path, packaged: PackageResult, image_files: list[Path]
) -> list[str]:
    """The output folder must hold exactly what the manifests and images name."""
    expected = set(packaged.files) | {p.relative_to(output_dir).as_posix() for p in image_files}
    present = {p.relative_to(output_dir).as_posix() for p in output_dir.rglob("*") if p.is_file()}
    if present != expected:
        raise TranscodeError(
            f"output folder mismatch: unexpected {sorted(present - expected)}, "
            f"missing {sorted(expected - present)}"
        )
    return sorted(present)


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TranscodeError("the media pipeline ran out of time")
    return remaining
