from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import m3u8
import pytest

from packager.bmff import SegmentInfo, read_init, read_segment
from packager.package import package
from packager.tracks import measure

if TYPE_CHECKING:
    from tests.unit.packager.conftest import Encoded


@pytest.fixture
def packaged(encoded: Encoded, tmp_path: Path) -> Encoded:
    copy = encoded.copy(tmp_path / "out")
    package(copy.out_dir, copy.inputs())
    return copy


def test_media_playlists_describe_the_measured_segments(packaged: Encoded) -> None:
    for track in packaged.result.tracks:
        playlist = m3u8.load(str(track.directory / "index.m3u8"))
        init = read_init(track.init)
        measured = [read_segment(path, init) for path in track.segments]
        durations = [s.duration / init.timescale for s in measured]
        assert playlist.version == 7
        assert playlist.playlist_type == "vod" and playlist.is_endlist
        assert playlist.is_independent_segments
        assert playlist.target_duration == max(math.ceil(d) for d in durations)
        assert [s.uri for s in playlist.segments] == [p.name for p in track.segments]
        assert [s.duration for s in playlist.segments] == pytest.approx(durations, abs=1e-6)
        assert {s.init_section.uri for s in playlist.segments} == {"init.mp4"}
        text = (track.directory / "index.m3u8").read_text()
        assert text.count("#EXT-X-MAP:") == 1 and "/" not in text.replace("#EXTM3U", "")


def test_the_master_lists_variants_with_measured_attributes(packaged: Encoded) -> None:
    master = m3u8.load(str(packaged.out_dir / "master.m3u8"))
    (track,) = packaged.result.audio
    audio = measure("audio", track.name, track.init, track.segments)
    (group,) = master.media
    assert (group.type, group.group_id, group.uri) == ("AUDIO", "aac", "audio/und-2ch/index.m3u8")
    assert (group.default, group.autoselect, group.channels) == ("YES", "YES", "2")
    assert (group.name, group.language) == ("Audio", None)  # untagged: no LANGUAGE
    assert [p.uri for p in master.playlists] == ["video/240p/index.m3u8", "video/360p/index.m3u8"]
    for variant, track in zip(master.playlists, packaged.result.video, strict=True):
        video = measure("video", track.name, track.init, track.segments, Fraction(25))
        info = variant.stream_info
        assert info.bandwidth == video.peak_bitrate + audio.peak_bitrate
        assert info.average_bandwidth == video.average_bitrate + audio.average_bitrate
        assert info.average_bandwidth <= info.bandwidth
        assert info.resolution == (video.init.width, video.init.height)
        assert info.codecs == f"{video.init.codec},mp4a.40.2"
        assert info.frame_rate == 25
        assert info.audio == "aac" and info.closed_captions == "NONE"
    text = (packaged.out_dir / "master.m3u8").read_text()
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in text and "http" not in text


def test_iframe_playlists_point_at_keyframes(packaged: Encoded) -> None:
    master = m3u8.load(str(packaged.out_dir / "master.m3u8"))
    assert [p.uri for p in master.iframe_playlists] == [
        "video/240p/iframes.m3u8",
        "video/360p/iframes.m3u8",
    ]
    for entry, track in zip(master.iframe_playlists, packaged.result.video, strict=True):
        playlist = m3u8.load(str(track.directory / "iframes.m3u8"))
        assert playlist.is_i_frames_only and playlist.version == 7
        assert entry.iframe_stream_info.codecs == read_init(track.init).codec
        assert len(playlist.segments) == len(track.segments)
        for segment in playlist.segments:
            length, offset = (int(part) for part in segment.byterange.split("@"))
            data = (track.directory / segment.uri).read_bytes()
            assert data[offset + 4 : offset + 8] == b"moof"
            assert offset + length < len(data)
        assert sum(s.duration for s in playlist.segments) == pytest.approx(5.0)


def test_a_video_only_master_has_no_audio_group(encoded: Encoded, tmp_path: Path) -> None:
    copy = encoded.copy(tmp_path / "out")
    package(copy.out_dir, [t for t in copy.inputs() if t.kind == "video"])
    text = (copy.out_dir / "master.m3u8").read_text()
    assert "#EXT-X-MEDIA" not in text and "AUDIO=" not in text and "mp4a" not in text
    assert "CLOSED-CAPTIONS=NONE" in text


def fake(durations: list[float], sizes: list[int]) -> tuple[SegmentInfo, ...]:
    segments, start = [], 0
    for duration, size in zip(durations, sizes, strict=True):
        ticks = round(duration * 1000)
        segments.append(SegmentInfo(Path(f"s{start}"), start, start, ticks, size, 1, True, ()))
        start += ticks
    return tuple(segments)


def test_the_peak_follows_the_hls_definition(encoded: Encoded) -> None:
    real = encoded.result.video[0]
    track = measure("video", "x", real.init, real.segments)
    in_ms = replace(track, init=replace(track.init, timescale=1000))
    # A tiny last segment is judged together with its neighbour, not on its own.
    short_tail = replace(in_ms, segments=fake([4, 4, 0.04], [500_000, 400_000, 40_000]))
    assert short_tail.target_duration == 4
    assert short_tail.peak_bitrate == math.ceil(500_000 * 8 / 4)
    # Runs of segments between 0.5 and 1.5 target durations count, not just single ones.
    windowed = replace(in_ms, segments=fake([4, 4, 0.5], [100_000, 400_000, 200_000]))
    assert windowed.peak_bitrate == math.ceil(600_000 * 8 / 4.5)
    assert windowed.average_bitrate == math.ceil(700_000 * 8 / 8.5)
