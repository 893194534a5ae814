from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from transcoder.ladder import (
    DEFAULT_LADDER,
    LadderConfig,
    LadderError,
    load_ladder,
    nearest_standard_rate,
    parse_ladder,
    plan,
    plan_fps,
)
from transcoder.levels import LevelError, h264_level
from transcoder.probe import AudioInfo, SourceInfo, VideoInfo

RUNG_HEIGHTS = [360, 480, 720, 1080]


def source(
    width: int,
    height: int,
    *,
    fps: Fraction | None = Fraction(25),
    sar: Fraction = Fraction(1),
    rotation: int = 0,
    channels: int | None = 2,
) -> SourceInfo:
    audio = (AudioInfo("aac", channels, "stereo", 48000),) if channels else ()
    return SourceInfo(
        path=Path("/nowhere/source.mp4"),
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=10.0,
        size_bytes=1,
        video=VideoInfo("h264", width, height, sar, rotation, fps, "yuv420p", None),
        audio_tracks=audio,
    )


@pytest.fixture(scope="module")
def ladder() -> LadderConfig:
    return load_ladder()


def sizes(source_info: SourceInfo, ladder: LadderConfig) -> list[tuple[str, int, int]]:
    return [(r.name, r.width, r.height) for r in plan(source_info, ladder).renditions]


def test_the_shipped_ladder_loads_with_the_documented_defaults(ladder: LadderConfig) -> None:
    assert [rung.height for rung in ladder.rungs] == RUNG_HEIGHTS
    assert [rung.profile for rung in ladder.rungs] == ["main", "main", "high", "high"]
    assert (ladder.segment_seconds, ladder.gop_seconds, ladder.max_fps) == (4, 2, 60)
    assert (ladder.audio.bitrate_kbps, ladder.audio.channels) == (128, 2)


def test_a_1080p_source_gets_every_rung(ladder: LadderConfig) -> None:
    assert sizes(source(1920, 1080), ladder) == [
        ("360p", 640, 360),
        ("480p", 854, 480),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ]


def test_rungs_above_the_source_are_dropped_never_upscaled(ladder: LadderConfig) -> None:
    assert sizes(source(854, 480), ladder) == [("360p", 640, 360), ("480p", 854, 480)]
    # 1000 pixels tall sits between 720p and 1080p: 1080p would be an upscale.
    names = [name for name, *_ in sizes(source(1778, 1000), ladder)]
    assert names == ["360p", "480p", "720p"]


def test_portrait_sources_compare_their_short_side(ladder: LadderConfig) -> None:
    assert sizes(source(1080, 1920), ladder) == [
        ("360p", 360, 640),
        ("480p", 480, 854),
        ("720p", 720, 1280),
        ("1080p", 1080, 1920),
    ]
    assert sizes(source(480, 854), ladder) == [("360p", 360, 640), ("480p", 480, 854)]


def test_a_source_below_the_lowest_rung_gets_one_rendition_at_its_own_even_size(
    ladder: LadderConfig,
) -> None:
    assert sizes(source(320, 240), ladder) == [("240p", 320, 240)]
    assert sizes(source(321, 241), ladder) == [("240p", 320, 240)]
    only = plan(source(320, 240), ladder).renditions[0]
    assert only.crf == ladder.rungs[0].crf and only.profile == ladder.rungs[0].profile


def test_widths_follow_the_display_aspect_ratio_in_even_numbers(ladder: LadderConfig) -> None:
    # 4:3 source
    assert sizes(source(1440, 1080), ladder)[0] == ("360p", 480, 360)
    # Anamorphic 720x576 with 16:11 pixels displays as 1047x576: 16:9-ish, never odd.
    for _, width, height in sizes(source(720, 576, sar=Fraction(16, 11)), ladder):
        assert width % 2 == 0 and height % 2 == 0
        assert width <= 1048
    # A quarter turn makes a landscape-stored phone video portrait.
    assert sizes(source(1920, 1080, rotation=90), ladder)[-1] == ("1080p", 1080, 1920)


def test_the_frame_rate_follows_the_source_capped_by_whole_divisors(
    ladder: LadderConfig,
) -> None:
    assert plan_fps(Fraction(120), 60) == 60
    assert plan_fps(Fraction(100), 60) == 50
    assert plan_fps(Fraction(120000, 1001), 60) == Fraction(60000, 1001)
    assert plan_fps(Fraction(30000, 1001), 60) == Fraction(30000, 1001)
    assert plan_fps(Fraction(24), 60) == 24
    planned = plan(source(1280, 720, fps=Fraction(120)), ladder)
    assert planned.fps == 60
    assert planned.gop_frames == 120  # 2 s at 60 fps
    assert plan(source(1280, 720, fps=None), ladder).fps == 30  # unknown rate: fallback
    # A variable-rate source's average snaps to a sane fraction.
    assert plan(source(1280, 720, fps=Fraction(2997003, 100000)), ladder).fps == Fraction(
        30000, 1001
    )


def test_levels_come_from_resolution_and_frame_rate(ladder: LadderConfig) -> None:
    levels = {
        r.name: r.level for r in plan(source(1920, 1080, fps=Fraction(30)), ladder).renditions
    }
    assert levels == {"360p": "3.0", "480p": "3.1", "720p": "3.1", "1080p": "4.0"}
    at_60 = {r.name: r.level for r in plan(source(1920, 1080, fps=Fraction(60)), ladder).renditions}
    assert at_60["720p"] == "3.2" and at_60["1080p"] == "4.2"
    assert h264_level(3840, 2160, Fraction(30), 20_000, "high") == "5.1"
    with pytest.raises(LevelError):
        h264_level(8192, 8192, Fraction(120), 20_000, "high")


def test_audio_is_planned_only_when_the_source_has_some(ladder: LadderConfig) -> None:
    stereo, surround = plan(source(1280, 720, channels=6), ladder).audio
    assert (stereo.channels, stereo.source_channels, stereo.sample_rate) == (2, 6, 48000)
    assert (surround.channels, surround.bitrate_kbps, surround.name) == (6, 384, "und-6ch")
    assert (stereo.label, surround.label) == ("Audio", "Audio 5.1")
    (only,) = plan(source(1280, 720, channels=1), ladder).audio  # mono: stereo only
    assert only.channels == 2
    assert plan(source(1280, 720, channels=None), ladder).audio == ()
    no_surround = ladder.model_copy(
        update={"audio": ladder.audio.model_copy(update={"surround": False})}
    )
    assert [a.channels for a in plan(source(1280, 720, channels=6), no_surround).audio] == [2]


def test_every_language_gets_a_rendition_and_the_main_track_comes_first(
    ladder: LadderConfig,
) -> None:
    tracks = (
        AudioInfo("aac", 6, "5.1", 48000, index=0, language="fr"),
        AudioInfo("aac", 2, "stereo", 48000, index=1, language="en", default=True),
        AudioInfo("aac", 2, "stereo", 48000, index=2, language="en", commentary=True,
                  title="Director's commentary"),
        AudioInfo("aac", 2, "stereo", 44100, index=3),
    )  # fmt: skip
    info = dataclasses.replace(source(1280, 720), audio_tracks=tracks)
    planned = plan(info, ladder).audio
    assert [(a.name, a.source_index, a.label, a.main) for a in planned] == [
        ("en-2ch", 1, "English", True),
        ("fr-2ch", 0, "Français", False),
        ("en-2ch-2", 2, "Director's commentary", False),
        ("und-2ch", 3, "Audio", False),
        ("fr-6ch", 0, "Français 5.1", False),
    ]
    assert planned[2].commentary and {a.sample_rate for a in planned} == {48000}
    # Languages given at upload win over the source's tags; "" keeps a track's own.
    relabelled = plan(info, ladder, audio_languages=("", "", "", "de")).audio
    assert [a.language for a in relabelled][3] == "de"
    assert relabelled[3].label == "Deutsch"


def raw_ladder() -> dict[str, object]:
    return yaml.safe_load(DEFAULT_LADDER.read_text())


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"segment_seconds": 5}, "segment_seconds"),
        ({"gop_seconds": 3}, "gop_seconds"),
        ({"colour": "blue"}, "colour"),
        ({"max_fps": 0}, "max_fps"),
        ({"preset": "ludicrous"}, "preset"),
        ({"audio": {"bitrate_kbps": 128, "channels": 6}}, "audio.channels"),
        ({"images": {"poster_widths": []}}, "images.poster_widths"),
    ],
)
def test_config_errors_name_the_field(change: dict[str, object], named: str) -> None:
    raw = raw_ladder() | change
    with pytest.raises(LadderError) as caught:
        parse_ladder(raw)
    assert named in str(caught.value)


def test_rung_errors_name_the_rung_and_the_field() -> None:
    raw = raw_ladder()
    rungs = raw["rungs"]
    assert isinstance(rungs, list)
    rungs[1] = rungs[1] | {"maxrate_kbps": 100}
    with pytest.raises(LadderError) as caught:
        parse_ladder(raw)
    assert "rungs.1" in str(caught.value) and "maxrate_kbps" in str(caught.value)

    raw = raw_ladder()
    fresh = raw["rungs"]
    assert isinstance(fresh, list)
    raw["rungs"] = list(reversed(fresh))
    with pytest.raises(LadderError, match="ascending"):
        parse_ladder(raw)
    raw["rungs"] = [fresh[0] | {"name": "../etc"}]
    with pytest.raises(LadderError, match=r"rungs\.0\.name"):
        parse_ladder(raw)


def test_the_config_is_frozen(ladder: LadderConfig) -> None:
    with pytest.raises(ValueError, match="frozen"):
        ladder.segment_seconds = 6  # type: ignore[misc]


def test_load_ladder_reports_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "ladder.yaml"
    bad.write_text("segment_seconds: 4\ngop_seconds: 3\nrungs: []\n")
    with pytest.raises(LadderError) as caught:
        load_ladder(bad)
    assert str(bad) in str(caught.value) and "rungs" in str(caught.value)


@pytest.mark.parametrize(
    ("average", "planned"),
    [
        (Fraction(2987, 100), Fraction(30000, 1001)),  # a phone's variable rate
        (Fraction(5250, 179), Fraction(30000, 1001)),  # 29.33
        (Fraction(2999, 100), Fraction(30)),  # nearer 30 than 29.97
        (Fraction(24), Fraction(24)),
        (Fraction(23976, 1000), Fraction(24000, 1001)),
        (Fraction(4995, 100), Fraction(50)),
        (Fraction(15), Fraction(15)),  # a screen recording: not a standard rate, kept
        (Fraction(12), Fraction(12)),
        (Fraction(2900, 100), Fraction(29)),  # over 3 % from 29.97: kept as it is
    ],
)
def test_an_average_rate_snaps_to_the_nearest_standard_one(
    average: Fraction, planned: Fraction
) -> None:
    assert nearest_standard_rate(average) == planned
