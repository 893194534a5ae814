"""Describe encoded tracks as HLS and DASH at once, from one set of measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from packager import dash, hls
from packager.tracks import AudioLabel, MeasuredTrack, PackageError, VideoRange, measure

__all__ = [
    "AudioLabel",
    "AudioRenditionInfo",
    "PackageError",
    "PackageResult",
    "RenditionInfo",
    "TrackInput",
    "package",
]


@dataclass(frozen=True)
class TrackInput:
    """One encoded track: its init segment and media segments, in order."""

    kind: Literal["video", "audio"]
    name: str
    init: Path
    segments: tuple[Path, ...]
    frame_rate: Fraction | None = None
    label: AudioLabel | None = None  # audio: its language, menu name and default
    video_range: VideoRange = "SDR"  # video: PQ or HLG for the HDR ladder's renditions


@dataclass(frozen=True)
class RenditionInfo:
    name: str
    width: int
    height: int
    codecs: str  # the video codec string alone; the HLS variant adds the audio's
    dynamic_range: str  # sdr, pq or hlg
    frame_rate: float | None
    peak_bitrate: int  # bits per second, video alone
    average_bitrate: int
    segment_count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AudioRenditionInfo:
    name: str
    language: str
    label: str
    default: bool
    channels: int
    sample_rate: int
    codecs: str
    peak_bitrate: int
    average_bitrate: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PackageResult:
    renditions: tuple[RenditionInfo, ...]
    audio_codec: str | None
    audio: tuple[AudioRenditionInfo, ...]
    duration_s: float
    # Every file the manifests need, manifests included, relative to out_dir, sorted.
    files: tuple[str, ...] = field(default=())


def package(
    out_dir: Path, tracks: Sequence[TrackInput], *, base_urls: Sequence[dash.BaseUrl] = ()
) -> PackageResult:
    """Write master.m3u8 (+ media and I-frame playlists) and manifest.mpd into `out_dir`."""
    measured = [
        measure(
            track.kind,
            track.name,
            track.init,
            track.segments,
            track.frame_rate,
            track.label,
            track.video_range,
        )
        for track in tracks
    ]
    video = [track for track in measured if track.kind == "video"]
    audio = [track for track in measured if track.kind == "audio"]
    if not video:
        raise PackageError("nothing to package: no video track")
    _check_audio_labels(audio)

    written = [hls.write_media_playlist(track) for track in measured]
    iframe_playlists = [hls.write_iframe_playlist(track) for track in video]
    written += [playlist.path for playlist in iframe_playlists]
    written.append(hls.write_master(out_dir, video, audio, iframe_playlists))
    written.append(dash.write_mpd(out_dir, video, audio, base_urls=base_urls))
    for track in measured:
        written += [track.init_path, *(segment.path for segment in track.segments)]
    return PackageResult(
        renditions=tuple(_rendition(track) for track in video),
        audio_codec=audio[0].init.codec if audio else None,
        audio=tuple(_audio_rendition(track) for track in audio),
        duration_s=max(track.duration_s for track in measured),
        files=tuple(sorted(path.relative_to(out_dir).as_posix() for path in written)),
    )


def _check_audio_labels(audio: list[MeasuredTrack]) -> None:
    names = [track.label.name for track in audio if track.label is not None]
    if len(set(names)) != len(names):
        raise PackageError(f"audio renditions need distinct names, got {names}")
    if audio and sum(1 for t in audio if t.label is not None and t.label.default) > 1:
        raise PackageError("at most one audio rendition may be the default")


def _audio_rendition(track: MeasuredTrack) -> AudioRenditionInfo:
    label = track.label or AudioLabel()
    return AudioRenditionInfo(
        name=track.name,
        language=label.language,
        label=label.name,
        default=label.default,
        channels=track.init.channels or 0,
        sample_rate=track.init.sample_rate or 0,
        codecs=track.init.codec,
        peak_bitrate=track.peak_bitrate,
        average_bitrate=track.average_bitrate,
    )


def _rendition(track: MeasuredTrack) -> RenditionInfo:
    return RenditionInfo(
        name=track.name,
        width=track.init.width or 0,
        height=track.init.height or 0,
        codecs=track.init.codec,
        dynamic_range=track.video_range.lower(),
        frame_rate=float(track.frame_rate) if track.frame_rate is not None else None,
        peak_bitrate=track.peak_bitrate,
        average_bitrate=track.average_bitrate,
        segment_count=len(track.segments),
    )
