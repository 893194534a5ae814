"""The encoding ladder: typed config (configs/ladder.yaml) and the per-source plan.

`LadderConfig` rejects unknown keys and conflicting values with messages naming the field,
so a bad ladder fails at load, before FFmpeg starts. `plan()` turns the config and a probed
source into the renditions actually encoded: never upscaled, sized from the display aspect
ratio, at the source's frame rate (capped), each with its H.264 level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import langcodes
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import configs
from transcoder.color import Color
from transcoder.levels import h264_level
from transcoder.probe import (
    DEFAULT_MAX_DIMENSION,
    DEFAULT_MAX_PIXELS,
    UNKNOWN_LANGUAGE,
    SourceInfo,
)

# The shipped ladder (package data of `configs`); workers read `worker.ladder_path` instead.
DEFAULT_LADDER = configs.path(configs.LADDER)
# A source without a usable frame rate (rare: some raw streams) is planned at this rate.
FALLBACK_FPS = Fraction(30)
# The rates players and TVs expect. A source's average rate within SNAP_TOLERANCE of one is
# encoded at it: phones record variable frame rate (an average such as 29.87), and an output
# at 2987/100 fps would be constant but odd, and keyframe times would fall between frames.
STANDARD_RATES = tuple(
    Fraction(n, d)
    for n, d in (
        (24000, 1001), (24, 1), (25, 1), (30000, 1001), (30, 1), (48, 1), (50, 1),
        (60000, 1001), (60, 1), (100, 1), (120000, 1001), (120, 1),
    )
)  # fmt: skip
SNAP_TOLERANCE = Fraction(3, 100)


class LadderError(Exception):
    """The ladder config is invalid; the message names each offending field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rung(_Model):
    # The name becomes a folder and a URI path segment: keep it boring.
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    height: int = Field(ge=32, le=4320, multiple_of=2)
    bitrate_kbps: int = Field(gt=0)
    maxrate_kbps: int = Field(gt=0)
    bufsize_kbps: int = Field(gt=0)
    crf: int = Field(ge=0, le=51)
    profile: Literal["baseline", "main", "high"]

    @model_validator(mode="after")
    def _vbv(self) -> Rung:
        if self.maxrate_kbps < self.bitrate_kbps:
            raise ValueError(
                f"maxrate_kbps ({self.maxrate_kbps}) must be at least "
                f"bitrate_kbps ({self.bitrate_kbps})"
            )
        if self.bufsize_kbps < self.maxrate_kbps:
            raise ValueError(
                f"bufsize_kbps ({self.bufsize_kbps}) must be at least "
                f"maxrate_kbps ({self.maxrate_kbps})"
            )
        return self


class AudioConfig(_Model):
    bitrate_kbps: int = Field(128, ge=32, le=512)
    sample_rate: Literal[44100, 48000] = 48000
    channels: Literal[1, 2] = 2
    # Sources with 5.1 (or more) also keep a 5.1 AAC rendition of that track.
    surround: bool = True
    surround_bitrate_kbps: int = Field(384, ge=128, le=768)


class HdrConfig(_Model):
    """The HEVC Main10 ladder an HDR source also gets, beside its SDR H.264 one."""

    enabled: bool = True
    # x265's speed/quality trade-off (its own presets: x265 is several times slower than x264).
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = "veryfast"
    # x265's CRF scale sits about 5 above x264's for the same quality.
    crf_offset: int = Field(5, ge=-10, le=20)
    # HEVC needs about 70 % of H.264's bit rate for the same picture: the VBV caps scale so.
    bitrate_ratio: float = Field(0.7, gt=0, le=2)


class SourceLimits(_Model):
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, gt=0)
    max_dimension: int = Field(DEFAULT_MAX_DIMENSION, gt=0)


class ImagesConfig(_Model):
    poster_widths: tuple[int, ...] = Field((320, 640, 1280), min_length=1)
    poster_skip_ratio: float = Field(0.1, ge=0, lt=1)
    poster_window_s: float = Field(10.0, gt=0)
    storyboard_interval_s: float = Field(2.0, gt=0)
    storyboard_max_thumbnails: int = Field(1000, gt=0)
    storyboard_width: int = Field(160, ge=16, le=640, multiple_of=2)
    storyboard_columns: int = Field(10, ge=1, le=32)
    storyboard_rows: int = Field(10, ge=1, le=32)


class LadderConfig(_Model):
    rungs: tuple[Rung, ...] = Field(min_length=1)
    segment_seconds: float = Field(4.0, gt=0, le=20)
    gop_seconds: float = Field(2.0, gt=0, le=10)
    max_fps: float = Field(60.0, gt=0, le=120)
    preset: Literal[
        "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower"
    ] = "veryfast"
    audio: AudioConfig = AudioConfig()
    hdr: HdrConfig = HdrConfig()
    source_limits: SourceLimits = SourceLimits()
    images: ImagesConfig = ImagesConfig()

    @model_validator(mode="after")
    def _cross_checks(self) -> LadderConfig:
        ratio = self.segment_seconds / self.gop_seconds
        if abs(ratio - round(ratio)) > 1e-9:
            raise ValueError(
                f"segment_seconds ({self.segment_seconds:g}) must be a whole multiple of "
                f"gop_seconds ({self.gop_seconds:g}): every segment must start on a keyframe"
            )
        heights = [rung.height for rung in self.rungs]
        if heights != sorted(set(heights)):
            raise ValueError("rungs: heights must be unique and in ascending order")
        names = [rung.name for rung in self.rungs]
        if len(set(names)) != len(names):
            raise ValueError("rungs: names must be unique")
        return self


def load_ladder(path: Path = DEFAULT_LADDER) -> LadderConfig:
    """Load and validate a ladder file; `LadderError` names every bad field."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise LadderError(f"{path}: {exc}") from None
    return parse_ladder(raw or {}, source=str(path))


def parse_ladder(raw: object, *, source: str = "ladder") -> LadderConfig:
    try:
        return LadderConfig.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        raise LadderError(f"{source}: " + "; ".join(problems)) from None


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    bitrate_kbps: int
    maxrate_kbps: int
    bufsize_kbps: int
    crf: int
    profile: str
    level: str


SURROUND_CHANNELS = 6  # 5.1


@dataclass(frozen=True)
class AudioPlan:
    """One AAC rendition of one source audio track (a track may give stereo and 5.1)."""

    name: str  # its folder under audio/ and its id in the manifests: "en-2ch", "fr-6ch"
    source_index: int  # FFmpeg's 0:a:<source_index>
    language: str  # BCP 47
    label: str  # what a player's menu shows (HLS NAME, DASH Label)
    main: bool  # the source's main track: the default choice
    commentary: bool
    bitrate_kbps: int
    sample_rate: int
    channels: int
    source_channels: int


@dataclass(frozen=True)
class LadderPlan:
    renditions: tuple[Rendition, ...]
    fps: Fraction
    gop_seconds: float
    gop_frames: int  # the keyframe interval cap handed to x264: a GOP never runs longer
    segment_seconds: float
    preset: str
    # Every audio rendition, the main track's stereo one first; empty for a silent source.
    audio: tuple[AudioPlan, ...]
    # The source's colour: the ladder converts HDR and wide-gamut sources to SDR BT.709.
    color: Color = field(default_factory=Color)
    video_index: int = 0  # the source's video stream among its video streams (0:v:<index>)
    # HDR sources: the same sizes again as HEVC Main10 in the source's own HDR (names end in
    # -hdr); empty for SDR sources or with hdr.enabled off.
    hdr_renditions: tuple[Rendition, ...] = ()
    hdr_preset: str = "veryfast"

    @property
    def video_renditions(self) -> tuple[Rendition, ...]:
        """Every video rendition encoded: the SDR ladder, then the HDR one."""
        return self.renditions + self.hdr_renditions


def plan(
    source: SourceInfo, config: LadderConfig, audio_languages: Sequence[str] = ()
) -> LadderPlan:
    """The renditions to encode for `source`: no upscaling, display aspect, capped fps.

    `audio_languages` overrides the source's language tags, one per audio stream in the
    source's order (an empty string keeps that stream's own tag).
    """
    # Averages of variable-rate sources come as fractions like 2997003/100000: keep the
    # closest rate with a denominator up to 1001, which covers 30000/1001 and friends.
    fps = plan_fps(nearest_standard_rate(source.video.frame_rate or FALLBACK_FPS), config.max_fps)
    display_w, display_h = source.video.display_width, source.video.display_height
    sizes = _sizes(display_w, display_h, config.rungs)
    renditions = tuple(_rendition(rung, size, fps) for rung, size in sizes)
    hdr: tuple[Rendition, ...] = ()
    if config.hdr.enabled and source.video.color.is_hdr:
        hdr = tuple(_hdr_rendition(rung, size, config.hdr) for rung, size in sizes)
    audio = plan_audio(source, config.audio, audio_languages)
    return LadderPlan(
        renditions=renditions,
        fps=fps,
        gop_seconds=config.gop_seconds,
        gop_frames=math.ceil(config.gop_seconds * fps),
        segment_seconds=config.segment_seconds,
        preset=config.preset,
        audio=audio,
        color=source.video.color,
        video_index=source.video.index,
        hdr_renditions=hdr,
        hdr_preset=config.hdr.preset,
    )


def plan_audio(
    source: SourceInfo, config: AudioConfig, languages: Sequence[str] = ()
) -> tuple[AudioPlan, ...]:
    """Stereo AAC for every source track, plus 5.1 for those with six channels or more."""
    main = source.audio
    tracks = sorted(source.audio_tracks, key=lambda track: track is not main)
    plans: list[AudioPlan] = []
    for track in tracks:
        override = languages[track.index] if track.index < len(languages) else ""
        language = override or track.language
        label = track.title or language_label(language)
        layouts: list[tuple[int, int]] = [(config.channels, config.bitrate_kbps)]
        if config.surround and track.channels >= SURROUND_CHANNELS:
            layouts.append((SURROUND_CHANNELS, config.surround_bitrate_kbps))
        for channels, bitrate in layouts:
            plans.append(
                AudioPlan(
                    name=_unique(
                        f"{language.lower()}-{channels}ch",
                        {item.name for item in plans},
                        "{value}-{n}",
                    ),
                    source_index=track.index,
                    language=language,
                    # HLS: every member of a rendition group has its own NAME.
                    label=_unique(
                        label + (" 5.1" if channels > 2 else ""),
                        {item.label for item in plans},
                        "{value} ({n})",
                    ),
                    main=track is main,
                    commentary=track.commentary,
                    bitrate_kbps=bitrate,
                    sample_rate=config.sample_rate,
                    channels=channels,
                    source_channels=track.channels,
                )
            )
    # The main track's stereo rendition first: it is every manifest's default.
    return tuple(sorted(plans, key=lambda item: (not item.main, item.channels > 2)))


def language_label(language: str) -> str:
    """The language's own name for itself (Français, Deutsch), as players' menus show it."""
    if language == UNKNOWN_LANGUAGE:
        return "Audio"
    name = langcodes.Language.get(language).autonym()
    return name[:1].upper() + name[1:]


def _unique(value: str, taken: set[str], numbered: str) -> str:
    """`value`, or `numbered` formatted with 2, 3, ... until it is not among `taken`."""
    candidate, number = value, 2
    while candidate in taken:
        candidate, number = numbered.format(value=value, n=number), number + 1
    return candidate


@dataclass(frozen=True)
class FramePlan:
    """The poster candidate and storyboard thumbnails the ladder's own process writes.

    poster.png: the most representative frame of a window that starts after the fade-in;
    storyboard/thumb_00001.png, ...: one every `interval_s` from t=0, thumbnail k at
    (k - 1) * interval_s.
    """

    directory: Path
    poster_start_s: float
    poster_window_s: float
    poster_size: tuple[int, int]
    interval_s: float
    thumbnail_size: tuple[int, int]
    thumbnail_limit: int  # the fps filter may emit one past the end; those are dropped

    @property
    def poster(self) -> Path:
        return self.directory / "poster.png"

    @property
    def storyboard_dir(self) -> Path:
        return self.directory / "storyboard"


def plan_frames(source: SourceInfo, images: ImagesConfig, directory: Path) -> FramePlan:
    """Poster and storyboard sizes and times for `source`, at its display aspect ratio."""
    interval = max(
        images.storyboard_interval_s, source.duration_s / images.storyboard_max_thumbnails
    )
    return FramePlan(
        directory=directory,
        poster_start_s=source.duration_s * images.poster_skip_ratio,
        poster_window_s=images.poster_window_s,
        poster_size=_fit(source, max(images.poster_widths)),
        interval_s=interval,
        thumbnail_size=_fit(source, images.storyboard_width),
        thumbnail_limit=max(1, math.ceil(source.duration_s / interval)),
    )


def _fit(source: SourceInfo, max_width: int) -> tuple[int, int]:
    """Display size scaled down (never up) to at most `max_width`, even dimensions."""
    display_w, display_h = source.video.display_width, source.video.display_height
    width = min(display_w, max_width)
    height = display_h * width / display_w
    return max(2, 2 * round(width / 2)), max(2, 2 * round(height / 2))


def nearest_standard_rate(rate: Fraction) -> Fraction:
    """The standard rate nearest `rate` when it is within 3 % of it (a variable-rate phone
    clip averaging 29.87 fps is 30000/1001); else `rate` itself, to a denominator of at most
    1001 (12 fps, 15 fps screen recordings stay what they are)."""
    nearest = min(STANDARD_RATES, key=lambda standard: abs(standard - rate))
    if abs(nearest - rate) <= nearest * SNAP_TOLERANCE:
        return nearest
    return rate.limit_denominator(1001)


def plan_fps(source_fps: Fraction, max_fps: float) -> Fraction:
    """The source rate divided by the smallest whole number that brings it under max_fps.

    Whole divisors keep motion regular (120 -> 60 drops every other frame); 29.97 stays.
    """
    divisor = max(1, math.ceil(source_fps / Fraction(max_fps)))
    return source_fps / divisor


def _sizes(
    display_w: int, display_h: int, rungs: tuple[Rung, ...]
) -> list[tuple[Rung, tuple[int, int]]]:
    portrait = display_h > display_w
    short, long = (display_w, display_h) if portrait else (display_h, display_w)
    fitting = [rung for rung in rungs if rung.height <= short]
    if not fitting:
        # Smaller than the lowest rung: one rendition at the source's own (even) size.
        lowest = rungs[0]
        own = _even_floor(short)
        rung = lowest.model_copy(update={"name": f"{own}p", "height": own})
        fitting = [rung]
    sizes = []
    for rung in fitting:
        other = min(_even_round(rung.height * long / short), _even_floor(long))
        size = (rung.height, other) if portrait else (other, rung.height)
        sizes.append((rung, size))
    return sizes


def _rendition(rung: Rung, size: tuple[int, int], fps: Fraction) -> Rendition:
    width, height = size
    return Rendition(
        name=rung.name,
        width=width,
        height=height,
        bitrate_kbps=rung.bitrate_kbps,
        maxrate_kbps=rung.maxrate_kbps,
        bufsize_kbps=rung.bufsize_kbps,
        crf=rung.crf,
        profile=rung.profile,
        level=h264_level(width, height, fps, rung.maxrate_kbps, rung.profile),
    )


HDR_SUFFIX = "-hdr"


def _hdr_rendition(rung: Rung, size: tuple[int, int], config: HdrConfig) -> Rendition:
    width, height = size

    def scaled(kbps: int) -> int:
        return max(1, round(kbps * config.bitrate_ratio))

    return Rendition(
        name=f"{rung.name}{HDR_SUFFIX}",
        width=width,
        height=height,
        bitrate_kbps=scaled(rung.bitrate_kbps),
        maxrate_kbps=scaled(rung.maxrate_kbps),
        bufsize_kbps=scaled(rung.bufsize_kbps),
        crf=min(51, max(0, rung.crf + config.crf_offset)),
        profile="main10",
        level="",  # x265 picks the level from size, rate and VBV; hvcC says which
    )


def _even_round(value: float) -> int:
    return max(2, 2 * math.floor(value / 2 + 0.5))


def _even_floor(value: float) -> int:
    return max(2, 2 * math.floor(value / 2))
