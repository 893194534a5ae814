"""The ladder and frame extraction against a real FFmpeg, checked by decoding with PyAV."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from sample_media.generate import Clip, generate
from transcoder.encode import encode_ladder
from transcoder.ladder import load_ladder, plan, plan_frames
from transcoder.probe import probe

NTSC = Fraction(30000, 1001)


def joined(tmp: Path, init: Path, segments: Sequence[Path]) -> Path:
    """init + segments as one fragmented MP4 file, as a player would append them."""
    path = tmp / f"joined-{len(list(tmp.iterdir()))}.mp4"
    path.write_bytes(init.read_bytes() + b"".join(s.read_bytes() for s in segments))
    return path


def keyframe_times(path: Path) -> tuple[list[float], int]:
    """Presentation times of keyframe packets, and the packet count, of the first video stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
    keys = sorted(float(p.pts * p.time_base) for p in packets if p.is_keyframe)
    return keys, len(packets)


def test_keyframes_and_segments_stay_aligned_at_ntsc_rates(
    ffmpeg: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # 40 s: long enough for 29.97 fps keyframes to drift off a naive grid (after ~34 s).
    clip = generate(str(ffmpeg), Clip("ntsc", "ntsc.mp4", 96, 54, 30, 40, 0, ""), tmp_path)
    source = probe(clip)
    ladder_plan = plan(source, load_ladder())
    ladder_plan = dataclasses.replace(ladder_plan, fps=NTSC, gop_frames=math.ceil(2 * NTSC))
    out = tmp_path_factory.mktemp("ntsc-out")
    result = encode_ladder(source, ladder_plan, out, ffmpeg, None, 120)
    (track,) = result.video
    assert result.audio == ()
    scratch = tmp_path_factory.mktemp("joined")
    for segment in track.segments:
        # Each segment decodes on its own after the init segment: it opens on a keyframe.
        with av.open(str(joined(scratch, track.init, [segment]))) as container:
            first = next(container.decode(video=0))
        assert first.key_frame
    keys, frames = keyframe_times(joined(scratch, track.init, track.segments))
    # As frame numbers (the demuxer may shift every timestamp by the B-frame delay): one
    # keyframe on the first frame at or after every multiple of 2 s, and no others.
    numbers = [round((t - keys[0]) * NTSC) for t in keys]
    expected = [n for n in (math.ceil(2 * k * NTSC) for k in range(frames)) if n < frames]
    assert numbers == expected
    assert frames == 1199  # 40 s at 29.97 fps: every frame kept
    assert 1019 in numbers, "34 s in, a GOP is one frame shorter (59.94 frames per 2 s)"
    # Segments hold whole GOPs: 2 keyframes each (the last may hold fewer).
    assert len(track.segments) == math.ceil(len(keys) / 2)


def test_rotated_anamorphic_sources_come_out_upright_at_the_planned_size(
    ffmpeg: Path, rotated_anamorphic: Path, tmp_path: Path
) -> None:
    source = probe(rotated_anamorphic)
    ladder_plan = plan(source, load_ladder())
    (rendition,) = ladder_plan.renditions
    assert (rendition.width, rendition.height) == (180, 426)
    result = encode_ladder(source, ladder_plan, tmp_path / "out", ffmpeg, None, 120)
    (track,) = result.video
    assert track.directory == tmp_path / "out" / "video" / rendition.name
    with av.open(str(joined(tmp_path, track.init, track.segments))) as container:
        stream = container.streams.video[0]
        decoded = next(container.decode(stream))
        assert stream.sample_aspect_ratio in (None, Fraction(1))
    assert (decoded.width, decoded.height) == (180, 426)
    assert decoded.rotation == 0, "the rotation is applied, not passed on"


def test_frames_are_a_poster_and_a_storyboard_grid(
    ffmpeg: Path, small_clip: Path, tmp_path: Path
) -> None:
    source = probe(small_clip)
    images = load_ladder().images.model_copy(update={"storyboard_interval_s": 1.0})
    frames_plan = plan_frames(source, images, tmp_path / "frames")
    result = encode_ladder(
        source, plan(source, load_ladder()), tmp_path / "out", ffmpeg, None, 60, frames_plan
    )
    frames = result.frames
    assert frames is not None
    with Image.open(frames.poster) as poster:
        assert poster.size == (640, 360)  # the source's size: below the 1280 cap
        # Not a black fade-in frame.
        assert max(poster.convert("L").getextrema()) > 64
    assert frames.interval_s == 1.0
    assert len(frames.storyboard) == 3  # 3 s, one per second, none past the end
    for thumb in frames.storyboard:
        with Image.open(thumb) as image:
            assert image.size == (160, 90)
    assert sorted(p.name for p in (tmp_path / "frames").rglob("*.png")) == sorted(
        [frames.poster.name, *(t.name for t in frames.storyboard)]
    )


def test_frames_of_a_short_portrait_clip_without_audio(
    ffmpeg: Path, rotated_anamorphic: Path, tmp_path: Path
) -> None:
    source = probe(rotated_anamorphic)  # 2 s, 180x427 on screen, no audio
    images = load_ladder().images.model_copy(update={"storyboard_interval_s": 5.0})
    frames_plan = plan_frames(source, images, tmp_path / "frames")
    result = encode_ladder(
        source, plan(source, load_ladder()), tmp_path / "out", ffmpeg, None, 60, frames_plan
    )
    assert result.audio == () and result.frames is not None
    with Image.open(result.frames.poster) as poster:
        assert poster.size == frames_plan.poster_size
        assert poster.height > poster.width
    # Shorter than the interval: one thumbnail, the first frame.
    (thumb,) = result.frames.storyboard
    with Image.open(thumb) as image:
        assert image.size == frames_plan.thumbnail_size
