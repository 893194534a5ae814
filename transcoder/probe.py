"""What a source file is, read with PyAV, and whether we can transcode it.

`probe()` refuses bad input with a `ProbeError` whose `reason` is a stable code (the API and
the asset's failed state show it) and whose message is written for a person, never a
traceback. The checks run cheapest first: the file size, the container header, the declared
resolution (before any decoding, so a 67-Mpixel bomb costs nothing), then a few decoded
frames at the start and a demux of the last seconds, which is what catches a file whose
header promises more media than the file holds.

Still images (PNG, JPEG, ... one picture, no timeline) are refused with ``still_image``:
turning a picture into a video is a product decision (how long? with audio?) that belongs
to an explicit feature, not to a silent fallback in the transcoder.
"""

from __future__ import annotations

import math
import struct
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import langcodes
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from transcoder.color import Color

# 8192x4320 (8K DCI): anything bigger is refused before a single frame is decoded.
DEFAULT_MAX_PIXELS = 8192 * 4320
DEFAULT_MAX_DIMENSION = 8192

_BMFF_FIRST_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide")
# How many frames must decode at the start, and how much of the end must demux.
_HEAD_FRAMES = 3
_TAIL_SECONDS = 5.0
# A stream may end up to this much before its declared end (rounding, last-frame duration).
_END_TOLERANCE_S = 1.0
_END_TOLERANCE_RATIO = 0.01
# An audio track must give this many decoded frames within the first packets to be used.
_AUDIO_HEAD_FRAMES = 2
_AUDIO_HEAD_PACKETS = 200
UNKNOWN_LANGUAGE = "und"
# AV_CODEC_PROP_TEXT_SUB: the decoder yields text (mov_text, subrip, ass...), not bitmaps.
_TEXT_SUBTITLES = 1 << 17


class ProbeError(Exception):
    """The source cannot be transcoded; `reason` is a stable code, `message` human."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    sample_aspect_ratio: Fraction
    rotation: int  # clockwise display rotation in degrees: 0, 90, 180 or 270
    frame_rate: Fraction | None
    pix_fmt: str | None
    bit_rate: int | None
    color: Color = field(default_factory=Color)
    # Among the source's video streams (FFmpeg's 0:v:<index>): not 0 when cover art (an
    # attached picture, which MP4 and MKV files from music apps and phones carry) comes first.
    index: int = 0

    @property
    def display_width(self) -> int:
        return self._display()[0]

    @property
    def display_height(self) -> int:
        return self._display()[1]

    def _display(self) -> tuple[int, int]:
        # Non-square pixels stretch the width; a quarter turn swaps the axes.
        width = max(1, round(self.width * self.sample_aspect_ratio))
        if self.rotation in (90, 270):
            return self.height, width
        return width, self.height


@dataclass(frozen=True)
class AudioInfo:
    codec: str
    channels: int
    layout: str
    sample_rate: int
    index: int = 0  # among the source's audio streams: FFmpeg's 0:a:<index>
    language: str = UNKNOWN_LANGUAGE  # BCP 47 (en, pt-BR), from the stream's ISO 639 tag
    title: str | None = None  # the stream's own title tag, when it has one
    default: bool = False  # the source marks it as the track to play
    commentary: bool = False


@dataclass(frozen=True)
class SubtitleInfo:
    """A text subtitle stream of the source (mov_text, SubRip, WebVTT, ASS): published as a
    caption track. Image-based ones (DVD, PGS, DVB) are only named in the warnings."""

    index: int  # among the source's subtitle streams: FFmpeg's 0:s:<index>
    codec: str
    language: str = UNKNOWN_LANGUAGE
    title: str | None = None
    forced: bool = False
    hearing_impaired: bool = False  # captions (sounds described), not subtitles


@dataclass(frozen=True)
class SourceInfo:
    path: Path
    format_name: str
    duration_s: float
    size_bytes: int
    video: VideoInfo
    # Every audio stream that decodes, in the source's order; the others are in `warnings`.
    audio_tracks: tuple[AudioInfo, ...] = ()
    subtitle_tracks: tuple[SubtitleInfo, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def audio(self) -> AudioInfo | None:
        """The source's main audio track: the one it marks default, else its first."""
        marked = [track for track in self.audio_tracks if track.default]
        candidates = marked or list(self.audio_tracks)
        return candidates[0] if candidates else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (fractions as strings, plus the display size).

        ``audio`` (the main track) keeps the shape it had before sources could carry
        several; ``audio_tracks`` lists them all.
        """
        data = asdict(self)
        main = self.audio
        data["audio"] = asdict(main) if main is not None else None
        data["warnings"] = list(self.warnings)
        data["path"] = str(self.path)
        video = data["video"]
        sar = self.video.sample_aspect_ratio
        video["sample_aspect_ratio"] = f"{sar.numerator}:{sar.denominator}"
        rate = self.video.frame_rate
        video["frame_rate"] = str(rate) if rate is not None else None
        video["display_width"] = self.video.display_width
        video["display_height"] = self.video.display_height
        video["color"] = self.video.color.names()
        return data


def probe(
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_dimension: int = DEFAULT_MAX_DIMENSION,
) -> SourceInfo:
    """Describe `path`, or raise `ProbeError` saying why it cannot be transcoded."""
    size = _file_size(path)
    _check_bmff_boxes(path, size)
    container = _open(path)
    with container:
        if _is_image_format(container.format.name):
            raise ProbeError("still_image", "this is a still image, not a video")
        stream = _video_stream(container)
        _check_resolution(stream, max_pixels, max_dimension)
        rotation = _check_head(container, stream)
        duration_s = _duration_s(container, stream)
        _check_tail(container, stream, duration_s)
        audio, warnings = _audio_tracks(container)
        subtitles, image_based = _subtitle_tracks(container)
        return SourceInfo(
            path=path,
            format_name=container.format.name,
            duration_s=duration_s,
            size_bytes=size,
            video=_video_info(stream, rotation, list(container.streams.video).index(stream)),
            audio_tracks=audio,
            subtitle_tracks=subtitles,
            warnings=warnings + image_based,
        )


def _file_size(path: Path) -> int:
    # A missing file is the caller's bug, not bad media: FileNotFoundError propagates.
    size = path.stat().st_size
    if size == 0:
        raise ProbeError("empty", "the file is empty (0 bytes)")
    return size


def _open(path: Path) -> InputContainer:
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError:
        if _looks_like_iso_bmff(path):
            # An MP4/MOV whose index cannot be read: typically an upload cut short.
            raise ProbeError(
                "truncated", "the MP4/MOV file is truncated: its index cannot be read"
            ) from None
        raise ProbeError("not_media", "this is not a media file FFmpeg can read") from None


def _looks_like_iso_bmff(path: Path) -> bool:
    with path.open("rb") as file:
        head = file.read(12)
    return len(head) == 12 and head[4:8] in _BMFF_FIRST_BOXES


def _check_bmff_boxes(path: Path, size: int) -> None:
    """MP4/MOV: no top-level box may claim more bytes than the file holds.

    Reads box headers only. An upload cut short leaves its last box (mdat, or moov when
    it comes last) promising data that is not there; this catches it before decoding.
    """
    if not _looks_like_iso_bmff(path):
        return
    offset = 0
    with path.open("rb") as file:
        while offset + 8 <= size:
            file.seek(offset)
            header = file.read(16)
            box_size, box_type = struct.unpack_from(">I4s", header)
            if not box_type.isalnum() and box_type not in (b"free", b"skip"):
                return  # trailing bytes that are not boxes: not ours to judge
            if box_size == 1 and len(header) == 16:
                (box_size,) = struct.unpack_from(">Q", header, 8)
            elif box_size == 0:  # "extends to the end of the file"
                return
            if box_size < 8 or offset + box_size > size:
                raise ProbeError(
                    "truncated",
                    f"the file is truncated: its {box_type.decode(errors='replace')} box "
                    f"needs {offset + box_size} bytes but the file has {size}",
                )
            offset += box_size


def _is_image_format(name: str) -> bool:
    # FFmpeg reads single pictures through the image2 demuxer or a "<codec>_pipe" one.
    return any(part == "image2" or part.endswith("_pipe") for part in name.split(","))


def _video_stream(container: InputContainer) -> VideoStream:
    for stream in container.streams.video:
        # Cover art in an audio file is an attached picture, not a video.
        if not stream.disposition & Disposition.attached_pic:
            return stream
    if container.streams.video:
        raise ProbeError(
            "no_video", "the file has no video stream: it is audio with a cover picture"
        )
    raise ProbeError("no_video", "the file has no video stream (audio only?)")


def _check_resolution(stream: VideoStream, max_pixels: int, max_dimension: int) -> None:
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise ProbeError("not_media", "not a media file we can use: the video has no picture size")
    if width * height > max_pixels or max(width, height) > max_dimension:
        raise ProbeError(
            "too_large",
            f"the picture is too large: {width}x{height} is above the limit of "
            f"{max_pixels / 1e6:.1f} Mpixel "
            f"and {max_dimension} pixels per side",
        )


def _check_head(container: InputContainer, stream: VideoStream) -> int:
    """Decode the first frames; return the display rotation they carry."""
    rotation = 0
    decoded = 0
    try:
        for frame in container.decode(stream):
            if decoded == 0:
                # av_display_rotation_get() is counterclockwise; we store clockwise.
                rotation = round(-frame.rotation / 90) * 90 % 360
            decoded += 1
            if decoded >= _HEAD_FRAMES:
                break
    except av.error.FFmpegError:
        raise ProbeError(
            "truncated", "the file is truncated or corrupt: its first frames do not decode"
        ) from None
    if decoded == 0:
        raise ProbeError("truncated", "the file is truncated or corrupt: no frame decodes")
    return rotation


def _duration_s(container: InputContainer, stream: VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    raise ProbeError("not_media", "not a media file we can use: it declares no duration")


def _check_tail(container: InputContainer, stream: VideoStream, duration_s: float) -> None:
    """Seek near the declared end and demux to EOF: the media must really reach it."""
    start_s = float((stream.start_time or 0) * (stream.time_base or 0))
    target = max(0.0, duration_s - _TAIL_SECONDS)
    reached, decoded = 0.0, 0
    try:
        container.seek(int((start_s + target) * av.time_base), backward=True)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                end = (packet.pts + (packet.duration or 0)) * packet.time_base
                reached = max(reached, float(end) - start_s)
            decoded += len(packet.decode())
    except av.error.FFmpegError:
        raise ProbeError(
            "truncated", "the file is truncated or corrupt: its end does not decode"
        ) from None
    tolerance = max(_END_TOLERANCE_S, duration_s * _END_TOLERANCE_RATIO)
    if decoded == 0 or reached < duration_s - tolerance:
        raise ProbeError(
            "truncated",
            f"the file is truncated: it declares {duration_s:.1f} s of video "
            f"but the media stops at {reached:.1f} s",
        )


def _video_info(stream: VideoStream, rotation: int, index: int) -> VideoInfo:
    context = stream.codec_context
    sar = stream.sample_aspect_ratio or context.sample_aspect_ratio
    rate = stream.average_rate or stream.guessed_rate
    return VideoInfo(
        codec=context.name,
        width=context.width,
        height=context.height,
        sample_aspect_ratio=Fraction(sar) if sar else Fraction(1),
        rotation=rotation,
        frame_rate=Fraction(rate) if rate and math.isfinite(rate) and rate > 0 else None,
        pix_fmt=context.format.name if context.format else None,
        bit_rate=context.bit_rate or None,
        color=Color(
            primaries=context.color_primaries,
            transfer=context.color_trc,
            matrix=context.colorspace,
            range=context.color_range,
        ),
        index=index,
    )


def _audio_tracks(container: InputContainer) -> tuple[tuple[AudioInfo, ...], tuple[str, ...]]:
    """Every audio stream that decodes; a warning naming each one that does not.

    A track FFmpeg cannot decode (an unknown codec, a corrupt stream) would fail the whole
    encode, so it is left out and the video still publishes, with the reason on the asset.
    """
    streams = list(container.streams.audio)
    undecodable = _undecodable_audio(container, streams) if streams else set()
    tracks, warnings = [], []
    for index, stream in enumerate(streams):
        language = _language(stream.metadata.get("language"))
        if index in undecodable:
            codec = stream.codec_context.name if stream.codec_context else "unknown"
            warnings.append(
                f"audio track {index + 1} ({language}, {codec}) cannot be decoded: "
                "published without it"
            )
            continue
        tracks.append(_audio_info(stream, index, language))
    return tuple(tracks), tuple(warnings)


def _undecodable_audio(container: InputContainer, streams: list[AudioStream]) -> set[int]:
    """The indexes (among `streams`) whose first packets give no decoded audio."""
    frames = dict.fromkeys(range(len(streams)), 0)
    position = {stream.index: index for index, stream in enumerate(streams)}
    failed: set[int] = set()
    try:
        container.seek(0)
    except av.error.FFmpegError:
        return set(frames)
    for seen, packet in enumerate(container.demux(*streams)):
        index = position[packet.stream.index]
        if index not in failed:
            try:
                frames[index] += len(packet.decode())
            except (av.error.FFmpegError, ValueError):
                failed.add(index)
        if seen >= _AUDIO_HEAD_PACKETS or all(
            count >= _AUDIO_HEAD_FRAMES or index in failed for index, count in frames.items()
        ):
            break
    return failed | {index for index, count in frames.items() if count == 0}


def _subtitle_tracks(
    container: InputContainer,
) -> tuple[tuple[SubtitleInfo, ...], tuple[str, ...]]:
    """The text subtitle streams, and a warning for each image-based one (which a WebVTT
    track cannot carry without OCR)."""
    tracks, warnings = [], []
    for index, stream in enumerate(container.streams.subtitles):
        context = stream.codec_context
        language = _language(stream.metadata.get("language"))
        codec = context.name if context is not None else "unknown"
        if context is None or not context.codec.properties & _TEXT_SUBTITLES:
            warnings.append(
                f"subtitle track {index + 1} ({language}, {codec}) is image-based: not published"
            )
            continue
        title = stream.metadata.get("title")
        tracks.append(
            SubtitleInfo(
                index=index,
                codec=codec,
                language=language,
                title=title.strip() or None if isinstance(title, str) else None,
                forced=bool(stream.disposition & Disposition.forced),
                hearing_impaired=bool(stream.disposition & Disposition.hearing_impaired),
            )
        )
    return tuple(tracks), tuple(warnings)


def _language(tag: object) -> str:
    """A stream's ISO 639-2 tag (``eng``, ``fre``) as BCP 47 (``en``, ``fr``); ``und`` for
    a missing or invalid one."""
    if not isinstance(tag, str) or not langcodes.tag_is_valid(tag.strip()):
        return UNKNOWN_LANGUAGE
    return langcodes.standardize_tag(tag.strip())


def _audio_info(stream: AudioStream, index: int, language: str) -> AudioInfo:
    context = stream.codec_context
    title = stream.metadata.get("title")
    return AudioInfo(
        codec=context.name,
        channels=context.channels,
        layout=context.layout.name,
        sample_rate=context.sample_rate,
        index=index,
        language=language,
        title=title.strip() or None if isinstance(title, str) else None,
        default=bool(stream.disposition & Disposition.default),
        commentary=bool(stream.disposition & Disposition.comment),
    )
