from __future__ import annotations

import json
import struct
from fractions import Fraction
from pathlib import Path

import pytest

from sample_media.generate import make_fixture, multi_audio_clip, subtitled_clip
from transcoder.probe import ProbeError, probe

EXPECTED_REASONS = {
    "zero_bytes": "empty",
    "text_as_mp4": "not_media",
    "truncated": "truncated",
    "audio_only": "no_video",
    "still_image": "still_image",
    "huge_resolution": "too_large",
}


@pytest.mark.parametrize("fixture", sorted(EXPECTED_REASONS))
def test_each_bad_input_is_refused_with_its_reason(
    bad_inputs: dict[str, Path], fixture: str
) -> None:
    with pytest.raises(ProbeError) as caught:
        probe(bad_inputs[fixture])
    assert caught.value.reason == EXPECTED_REASONS[fixture]
    message = caught.value.message
    assert message and "Traceback" not in message and "Errno" not in message


def test_a_good_clip_is_described(small_clip: Path) -> None:
    info = probe(small_clip)
    assert info.format_name.startswith("mov,mp4")
    assert info.duration_s == pytest.approx(3.0, abs=0.05)
    assert info.size_bytes == small_clip.stat().st_size
    video = info.video
    assert (video.codec, video.width, video.height) == ("h264", 640, 360)
    assert (video.display_width, video.display_height) == (640, 360)
    assert video.frame_rate == Fraction(25)
    assert video.sample_aspect_ratio == Fraction(1)
    assert video.rotation == 0
    assert video.pix_fmt == "yuv420p"
    assert video.bit_rate and video.bit_rate > 0
    assert info.audio is not None
    assert (info.audio.codec, info.audio.channels, info.audio.sample_rate) == ("aac", 2, 48000)
    assert info.audio.layout == "stereo"
    as_json = json.loads(json.dumps(info.to_dict()))
    assert as_json["video"]["frame_rate"] == "25"
    assert as_json["video"]["display_width"] == 640


def test_rotation_and_pixel_aspect_give_the_display_size(rotated_anamorphic: Path) -> None:
    video = probe(rotated_anamorphic).video
    assert (video.width, video.height) == (320, 180)
    assert video.sample_aspect_ratio == Fraction(4, 3)
    assert video.rotation in (90, 270)
    # 320 * 4/3 = 427 wide once the pixels are square, then a quarter turn.
    assert (video.display_width, video.display_height) == (180, 427)


def test_five_one_audio_is_reported_as_such(bad_inputs: dict[str, Path]) -> None:
    audio = probe(bad_inputs["surround_51"]).audio
    assert audio is not None
    assert (audio.channels, audio.layout) == (6, "5.1")


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_every_audio_track_is_described_with_its_language(
    ffmpeg: Path, tmp_path: Path, suffix: str
) -> None:
    info = probe(multi_audio_clip(str(ffmpeg), tmp_path / f"languages{suffix}"))
    described = [
        (t.index, t.language, t.channels, t.sample_rate, t.default) for t in info.audio_tracks
    ]
    assert described == [
        (0, "en", 2, 48000, True),  # ISO 639-2 "eng" as BCP 47
        (1, "fr", 6, 48000, False),  # "fre", the bibliographic code
        (2, "es", 1, 96000, False),
    ]
    assert info.audio is info.audio_tracks[0] and info.warnings == ()
    assert [t["language"] for t in info.to_dict()["audio_tracks"]] == ["en", "fr", "es"]


def test_an_audio_track_nothing_can_decode_is_left_out_with_a_warning(
    ffmpeg: Path, tmp_path: Path
) -> None:
    info = probe(make_fixture(str(ffmpeg), "undecodable_audio", tmp_path))
    assert [t.index for t in info.audio_tracks] == [0]
    (warning,) = info.warnings
    assert warning.startswith("audio track 2 ") and "cannot be decoded" in warning


def test_text_subtitle_tracks_are_described(ffmpeg: Path, tmp_path: Path) -> None:
    info = probe(subtitled_clip(str(ffmpeg), tmp_path / "subtitled.mp4"))
    assert [(t.index, t.codec, t.language, t.hearing_impaired) for t in info.subtitle_tracks] == [
        (0, "mov_text", "fr", False),
        (1, "mov_text", "en", True),
    ]
    assert info.warnings == ()


def test_cover_art_is_not_taken_for_the_video(ffmpeg: Path, tmp_path: Path) -> None:
    info = probe(make_fixture(str(ffmpeg), "cover_art", tmp_path))
    assert (info.video.codec, info.video.width, info.video.index) == ("h264", 320, 0)
    with pytest.raises(ProbeError) as caught:
        probe(make_fixture(str(ffmpeg), "audio_only_cover_art", tmp_path))
    assert caught.value.reason == "no_video" and "cover picture" in caught.value.message


def test_the_resolution_limit_is_configurable_and_checked_from_the_header(
    small_clip: Path,
) -> None:
    with pytest.raises(ProbeError) as by_pixels:
        probe(small_clip, max_pixels=640 * 360 - 1)
    with pytest.raises(ProbeError) as by_side:
        probe(small_clip, max_dimension=639)
    assert by_pixels.value.reason == by_side.value.reason == "too_large"
    assert probe(small_clip, max_pixels=640 * 360, max_dimension=640).video.width == 640


def test_an_mp4_cut_inside_its_index_is_truncated(small_clip: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(small_clip.read_bytes()[:300])  # ftyp and part of moov (faststart)
    with pytest.raises(ProbeError) as caught:
        probe(cut)
    assert caught.value.reason == "truncated"


def test_a_missing_file_is_not_bad_media(tmp_path: Path) -> None:
    # The caller lost its own download: that is a bug to surface, not an asset to fail.
    with pytest.raises(FileNotFoundError):
        probe(tmp_path / "nowhere.mp4")


def test_media_ending_before_the_declared_duration_is_truncated(
    bad_inputs: dict[str, Path], tmp_path: Path
) -> None:
    # Make the cut-short MP4 structurally valid (mdat "extends to the end of the file"), so
    # only the demux of the last seconds can tell that the media stops early.
    data = bytearray(bad_inputs["truncated"].read_bytes())
    offset = 0
    while data[offset + 4 : offset + 8] != b"mdat":
        offset += struct.unpack_from(">I", data, offset)[0]
    struct.pack_into(">I", data, offset, 0)
    patched = tmp_path / "patched.mp4"
    patched.write_bytes(bytes(data))
    with pytest.raises(ProbeError) as caught:
        probe(patched)
    assert caught.value.reason == "truncated"
    assert "stops at" in caught.value.message
