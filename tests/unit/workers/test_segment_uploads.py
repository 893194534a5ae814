"""Uploads during a real encode: every file goes up once, whole, as the build left it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from sample_media.generate import Clip, generate
from streamcore.binaries import FFmpegInfo
from transcoder.encode import encode_ladder
from transcoder.ladder import load_ladder, plan
from transcoder.probe import probe
from workers.segment_uploads import SegmentUploads


async def test_segments_uploaded_during_the_encode_are_the_finished_files(
    each_ffmpeg: FFmpegInfo, tmp_path: Path
) -> None:
    # 1 s segments over 12 s: a dozen cuts per track, so the encoder is mid-way through
    # a track while earlier segments of it are read.
    clip = generate(str(each_ffmpeg.path), Clip("up", "up.mp4", 320, 180, 25, 12, 2, ""), tmp_path)
    source = probe(clip)
    config = load_ladder().model_copy(update={"segment_seconds": 1.0, "gop_seconds": 1.0})
    ladder_plan = plan(source, config)
    out = tmp_path / "out"
    uploaded: dict[str, bytes] = {}

    async def put(relative: str) -> None:
        assert relative not in uploaded, "each file goes up once"
        uploaded[relative] = (out / relative).read_bytes()

    async with SegmentUploads(put, out, concurrency=2) as uploads:
        result = await asyncio.to_thread(
            encode_ladder, source, ladder_plan, out, each_ffmpeg.path, None, 120
        )
        files = [
            path.relative_to(out).as_posix()
            for track in result.tracks
            for path in (track.init, *track.segments)
        ]
        await uploads.finish(files)
    assert sorted(uploaded) == sorted(files)
    for relative, content in uploaded.items():
        assert content == (out / relative).read_bytes(), f"{relative} changed after upload"
    print(f"{uploads.early} of {len(files)} files uploaded while FFmpeg ran")


async def test_an_upload_error_is_raised_after_the_build_and_stops_the_rest(
    tmp_path: Path,
) -> None:
    calls: list[str] = []

    async def put(relative: str) -> None:
        calls.append(relative)
        raise OSError("storage unreachable")

    async with SegmentUploads(put, tmp_path, concurrency=1) as uploads:
        with pytest.raises(OSError, match="storage unreachable"):
            await uploads.finish(["a", "b", "c"])
    assert calls == ["a"]  # the first failure ends the attempt's traffic


async def test_a_failed_build_cancels_uploads_in_flight(tmp_path: Path) -> None:
    started = asyncio.Event()
    cancelled: list[str] = []

    async def put(relative: str) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(relative)
            raise

    track = tmp_path / "video" / "720p"
    track.mkdir(parents=True)
    for number in (1, 2):
        (track / f"seg_{number:05d}.m4s").write_bytes(b"x")
    with pytest.raises(RuntimeError, match="FFmpeg failed"):
        async with SegmentUploads(put, tmp_path, concurrency=2):
            await asyncio.wait_for(started.wait(), 10)
            raise RuntimeError("FFmpeg failed")
    assert cancelled == ["video/720p/seg_00001.m4s"]
