"""Describe encoded tracks as HLS and DASH at once, from one set of measurements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from packager import dash, hls
from packager.tracks import MeasuredTrack, PackageError, measure

__all__ = ["PackageError", "PackageResult", "RenditionInfo", "TrackInput", "package"]


@dataclass(frozen=True)
class TrackInput:
    """One encoded track: its init segment and media segments, in order."""

    kind: Literal["video", "audio"]
    name: str
    init: Path
    segments: tuple[Path, ...]
    frame_rate: Fraction | None = None


@dataclass(frozen=True)
class RenditionInfo:
    name: str
    width: int
    height: int
    codecs: str  # the video codec string alone; the HLS variant adds the audio's
    frame_rate: float | None
    peak_bitrate: int  # bits per second, video alone
    average_bitrate: int
    segment_count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PackageResult:
    renditions: tuple[RenditionInfo, ...]
    audio_codec: str | None
    duration_s: float
    # Every file the manifests need, manifests included, relative to out_dir, sorted.
    files: tuple[str, ...] = field(default=())


def package(
    out_dir: Path, tracks: Sequence[TrackInput], *, base_urls: Sequence[dash.BaseUrl] = ()
) -> PackageResult:
    """Write master.m3u8 (+ media and I-frame playlists) and manifest.mpd into `out_dir`."""
    measured = [
        measure(track.kind, track.name, track.init, track.segments, track.frame_rate)
        for track in tracks
    ]
    video = [track for track in measured if track.kind == "video"]
    audio_tracks = [track for track in measured if track.kind == "audio"]
    if not video:
        raise PackageError("nothing to package: no video track")
    if len(audio_tracks) > 1:
        raise PackageError("one audio track at most (a single AAC stereo rendition)")
    audio = audio_tracks[0] if audio_tracks else None

    written = [hls.write_media_playlist(track) for track in measured]
    iframe_playlists = [hls.write_iframe_playlist(track) for track in video]
    written += [playlist.path for playlist in iframe_playlists]
    written.append(hls.write_master(out_dir, video, audio, iframe_playlists))
    written.append(dash.write_mpd(out_dir, video, audio, base_urls=base_urls))
    for track in measured:
        written += [track.init_path, *(segment.path for segment in track.segments)]
    return PackageResult(
        renditions=tuple(_rendition(track) for track in video),
        audio_codec=audio.init.codec if audio is not None else None,
        duration_s=max(track.duration_s for track in measured),
        files=tuple(sorted(path.relative_to(out_dir).as_posix() for path in written)),
    )


def _rendition(track: MeasuredTrack) -> RenditionInfo:
    return RenditionInfo(
        name=track.name,
        width=track.init.width or 0,
        height=track.init.height or 0,
        codecs=track.init.codec,
        frame_rate=float(track.frame_rate) if track.frame_rate is not None else None,
        peak_bitrate=track.peak_bitrate,
        average_bitrate=track.average_bitrate,
        segment_count=len(track.segments),
    )
