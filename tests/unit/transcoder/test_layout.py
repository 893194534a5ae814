"""Which segments FFmpeg has finished: the rule uploads rely on while it is still running."""

from __future__ import annotations

from pathlib import Path

from transcoder import layout


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_a_segment_is_finished_once_its_track_has_the_next_one(tmp_path: Path) -> None:
    video = layout.video_dir(tmp_path, "720p")
    audio = layout.audio_dir(tmp_path, "en-2ch")
    touch(video / layout.INIT_NAME)
    v1, v2 = touch(video / "seg_00001.m4s"), touch(video / "seg_00002.m4s")
    touch(video / "seg_00003.m4s")  # being written, as far as anyone can tell
    a1 = touch(audio / "seg_00001.m4s")
    touch(layout.video_dir(tmp_path, "360p") / "seg_00001.m4s")  # the only one: unfinished
    # The audio's next segment is another track's: it says nothing about audio's first.
    assert sorted(layout.finished_segments(tmp_path)) == [v1, v2]
    a2 = touch(audio / "seg_00002.m4s")
    assert a1 in layout.finished_segments(tmp_path) and a2 not in layout.finished_segments(tmp_path)


def test_nothing_is_finished_before_the_encoder_has_written_anything(tmp_path: Path) -> None:
    assert layout.finished_segments(tmp_path / "not-yet") == []
