"""HLS playlists (RFC 8216) for fMP4 tracks, written with the `m3u8` library.

- ``master.m3u8``: one variant per video rendition, every audio rendition (each language,
  stereo and 5.1) in one AUDIO rendition group, plus one I-frame variant per rendition for
  trick play and thumbnails while scrubbing;
- ``<track>/index.m3u8``: the media playlist, EXTINF from measured durations;
- ``video/<rendition>/iframes.m3u8``: EXT-X-I-FRAMES-ONLY with byte ranges into segments.

Every URI is relative: the origin puts a signing token in the path, and relative URIs
inherit it without the playlists knowing about tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import m3u8

from packager.tracks import AudioLabel, MeasuredTrack

MASTER_NAME = "master.m3u8"
MEDIA_NAME = "index.m3u8"
IFRAMES_NAME = "iframes.m3u8"
AUDIO_GROUP = "aac"
UNKNOWN_LANGUAGE = "und"  # said by leaving LANGUAGE out
# fMP4 segments with EXT-X-MAP need version 6, I-frame playlists with EXT-X-MAP version 5;
# 7 is what fMP4 players (and Apple's authoring spec) expect, and covers BYTERANGE (4).
VERSION = 7


@dataclass(frozen=True)
class IFrame:
    duration_s: float
    offset: int
    length: int


@dataclass(frozen=True)
class IFramePlaylist:
    """A written ``iframes.m3u8`` and the bit rates the master announces for it."""

    track: MeasuredTrack
    path: Path
    peak_bitrate: int
    average_bitrate: int


def write_media_playlist(track: MeasuredTrack) -> Path:
    """``index.m3u8`` beside the track's segments."""
    playlist = _playlist(track.target_duration)
    directory = track.init_path.parent
    for segment in track.segments:
        playlist.add_segment(
            m3u8.Segment(
                uri=_relative(segment.path, directory),
                duration=track.seconds(segment.duration),
                init_section={"uri": _relative(track.init_path, directory)},
            )
        )
    path = directory / MEDIA_NAME
    path.write_text(playlist.dumps(infspec="microseconds"))
    return path


def iframes(track: MeasuredTrack) -> list[tuple[IFrame, str]]:
    """One I-frame per fragment-leading keyframe, each lasting until the next one.

    Only a keyframe that opens its fragment has a compact byte range (moof, mdat header,
    the frame): a later keyframe's range would drag in every sample before it.
    """
    found = [
        (keyframe, segment.path)
        for segment in track.segments
        for keyframe in segment.keyframes
        if keyframe.starts_fragment
    ]
    last = track.segments[-1]
    end = last.presentation_start + last.duration
    frames = []
    for index, (keyframe, path) in enumerate(found):
        until = found[index + 1][0].time if index + 1 < len(found) else end
        frame = IFrame(track.seconds(until - keyframe.time), keyframe.offset, keyframe.length)
        frames.append((frame, _relative(path, track.init_path.parent)))
    return frames


def write_iframe_playlist(track: MeasuredTrack) -> IFramePlaylist:
    """``iframes.m3u8`` beside the track's segments."""
    frames = iframes(track)
    playlist = _playlist(math.ceil(max(frame.duration_s for frame, _ in frames)))
    playlist.is_i_frames_only = True
    init_uri = _relative(track.init_path, track.init_path.parent)
    for frame, uri in frames:
        playlist.add_segment(
            m3u8.Segment(
                uri=uri,
                duration=frame.duration_s,
                byterange=f"{frame.length}@{frame.offset}",
                init_section={"uri": init_uri},
            )
        )
    path = track.init_path.parent / IFRAMES_NAME
    path.write_text(playlist.dumps(infspec="microseconds"))
    peak = max(frame.length * 8 / frame.duration_s for frame, _ in frames if frame.duration_s)
    total_s = sum(frame.duration_s for frame, _ in frames)
    average = sum(frame.length for frame, _ in frames) * 8 / total_s
    return IFramePlaylist(track, path, math.ceil(peak), math.ceil(average))


def write_master(
    out_dir: Path,
    video: list[MeasuredTrack],
    audio: list[MeasuredTrack],
    iframe_playlists: list[IFramePlaylist],
) -> Path:
    """``master.m3u8``; the media and I-frame playlists it names must be written already."""
    master = m3u8.M3U8()
    master.version = VERSION
    master.is_independent_segments = True
    for track in audio:
        master.add_media(_audio_media(out_dir, track))
    for track in video:
        master.add_playlist(_variant(out_dir, track, audio, master.media, video))
    for iframe in iframe_playlists:
        master.add_iframe_playlist(
            m3u8.IFramePlaylist(
                base_uri=None,
                uri=_relative(iframe.path, out_dir),
                iframe_stream_info={
                    "bandwidth": iframe.peak_bitrate,
                    "average_bandwidth": iframe.average_bitrate,
                    "resolution": f"{iframe.track.init.width}x{iframe.track.init.height}",
                    "codecs": iframe.track.init.codec,
                    **_video_range(iframe.track, video),
                },
            )
        )
    path = out_dir / MASTER_NAME
    path.write_text(master.dumps())
    return path


def _audio_media(out_dir: Path, track: MeasuredTrack) -> m3u8.Media:
    """One member of the AUDIO group: stereo and 5.1 of each language side by side.

    One group, not one per channel count: hls.js folds variants that differ only in their
    AUDIO group into one level only when their BANDWIDTH matches too, so separate groups
    would double every level and let ABR swap stereo for 5.1 mid-play. RFC 8216bis 4.4.6.1
    lets a group hold the same codec at different channel counts; CHANNELS tells them apart
    (required then) and NAME is unique in the group. A commentary is never auto-selected.
    """
    label = track.label or AudioLabel()
    return m3u8.Media(
        uri=_relative(track.init_path.parent / MEDIA_NAME, out_dir),
        type="AUDIO",
        group_id=AUDIO_GROUP,
        language=label.language if label.language != UNKNOWN_LANGUAGE else None,
        name=label.name,
        default="YES" if label.default else "NO",
        autoselect="NO" if label.commentary else "YES",
        channels=str(track.init.channels),
    )


def _video_range(track: MeasuredTrack, video: list[MeasuredTrack]) -> dict[str, str]:
    """VIDEO-RANGE, said on every variant once any is HDR (RFC 8216bis 4.4.6.2: clients that
    cannot show PQ or HLG leave those out); left out, meaning SDR, for an SDR-only ladder."""
    return {"video_range": track.video_range} if any(t.is_hdr for t in video) else {}


def _variant(
    out_dir: Path,
    track: MeasuredTrack,
    audio: list[MeasuredTrack],
    media: m3u8.MediaList,
    video: list[MeasuredTrack],
) -> m3u8.Playlist:
    # BANDWIDTH: the sum of the measured peaks of the renditions played together (video plus
    # the most demanding audio of its group, which any of them may be), as the spec asks;
    # AVERAGE-BANDWIDTH likewise with the averages.
    bandwidth, average, codecs = track.peak_bitrate, track.average_bitrate, [track.init.codec]
    info: dict[str, object] = {"closed_captions": "NONE"}
    if audio:
        bandwidth += max(item.peak_bitrate for item in audio)
        average += max(item.average_bitrate for item in audio)
        codecs += sorted({item.init.codec for item in audio})
        info["audio"] = AUDIO_GROUP
    if track.frame_rate is not None:
        info["frame_rate"] = float(track.frame_rate)
    info.update(
        bandwidth=bandwidth,
        average_bandwidth=average,
        resolution=f"{track.init.width}x{track.init.height}",
        codecs=",".join(codecs),
        **_video_range(track, video),
    )
    uri = _relative(track.init_path.parent / MEDIA_NAME, out_dir)
    return m3u8.Playlist(uri=uri, stream_info=info, media=media, base_uri=None)


def _playlist(target_duration: int) -> m3u8.M3U8:
    playlist = m3u8.M3U8()
    playlist.version = VERSION
    playlist.target_duration = target_duration
    playlist.playlist_type = "vod"
    playlist.is_independent_segments = True
    playlist.is_endlist = True
    return playlist


def _relative(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix()
