"""The box reader against fragments FFmpeg really wrote (see conftest.py)."""

from __future__ import annotations

import itertools
import struct
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from packager.bmff import BmffError, read_init, read_segment
from packager.boxes import find, iter_boxes

if TYPE_CHECKING:
    from tests.unit.packager.conftest import Encoded

PROFILE_IDC = {"baseline": 0x42, "main": 0x4D, "high": 0x64}


def test_codec_strings_carry_the_profile_and_level_asked_for(encoded: Encoded) -> None:
    for track, rendition in zip(encoded.result.video, encoded.plan.renditions, strict=True):
        init = read_init(track.init)
        level_idc = round(float(rendition.level) * 10)
        assert init.codec.startswith("avc1.")
        profile, _constraints, level = bytes.fromhex(init.codec.removeprefix("avc1."))
        assert (profile, level) == (PROFILE_IDC[rendition.profile], level_idc)
        assert (init.kind, init.width, init.height) == ("video", rendition.width, rendition.height)
        assert init.timescale > 0


def test_the_audio_track_is_aac_lc_stereo_48k(encoded: Encoded) -> None:
    (audio,) = encoded.result.audio
    init = read_init(audio.init)
    assert (init.kind, init.codec) == ("audio", "mp4a.40.2")
    assert (init.channels, init.sample_rate, init.timescale) == (2, 48000, 48000)


def test_segments_are_contiguous_whole_gops_starting_on_keyframes(encoded: Encoded) -> None:
    for track in encoded.result.video:
        init = read_init(track.init)
        segments = [read_segment(path, init) for path in track.segments]
        assert segments[0].start == 0
        for before, after in itertools.pairwise(segments):
            assert after.start == before.start + before.duration
        assert all(segment.starts_with_sync for segment in segments)
        # 25 fps, keyframes every 2 s, 4 s segments: 100 samples, keyframes at 0 and 2 s.
        assert [s.sample_count for s in segments] == [100, 25]
        first = segments[0]
        # Presented two frames after their decode time (B-frames): 80 ms at 25 fps.
        assert [k.time / init.timescale for k in first.keyframes] == [0.08, 2.08]
        total = sum(s.duration for s in segments) / init.timescale
        assert total == pytest.approx(5.0)
        assert first.size == track.segments[0].stat().st_size


def test_keyframe_ranges_start_at_a_moof_and_end_inside_the_mdat(encoded: Encoded) -> None:
    track = encoded.result.video[0]
    init = read_init(track.init)
    for path in track.segments:
        segment = read_segment(path, init)
        data = path.read_bytes()
        leading = [k for k in segment.keyframes if k.starts_fragment]
        assert len(leading) == 1
        keyframe = leading[0]
        assert data[keyframe.offset + 4 : keyframe.offset + 8] == b"moof"
        mdat = next(box for box in iter_boxes(data) if box.type == "mdat")
        assert mdat.body < keyframe.offset + keyframe.length <= mdat.end
        # The range is the moof, the mdat header and the keyframe: far from the whole segment.
        assert keyframe.length < segment.size / 2


def test_tfdt_and_trun_are_read_as_written(encoded: Encoded) -> None:
    path = encoded.result.video[0].segments[1]
    data = path.read_bytes()
    moof = find(data, "moof")
    assert moof is not None
    tfdt = find(data, "traf/tfdt", moof.body, moof.end)
    assert tfdt is not None
    version = data[tfdt.body]
    (decode_time,) = struct.unpack_from(">Q" if version else ">I", data, tfdt.body + 4)
    segment = read_segment(path, read_init(encoded.result.video[0].init))
    assert segment.start == decode_time


def test_a_cut_segment_is_refused(encoded: Encoded, tmp_path: Path) -> None:
    track = encoded.result.video[0]
    cut = tmp_path / "cut.m4s"
    cut.write_bytes(track.segments[0].read_bytes()[:5000])
    with pytest.raises(BmffError):
        read_segment(cut, read_init(track.init))
