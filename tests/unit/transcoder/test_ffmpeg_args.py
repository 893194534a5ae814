from __future__ import annotations

import dataclasses
import re
from fractions import Fraction
from pathlib import Path

import pytest

from transcoder.ffmpeg_args import (
    decode_check_argv,
    ladder_argv,
    subtitles_argv,
    timeline_offset_us,
)
from transcoder.ladder import FramePlan, LadderPlan, load_ladder, plan, plan_frames
from transcoder.probe import AudioInfo, SourceInfo, VideoInfo

FFMPEG = Path("/opt/ffmpeg/bin/ffmpeg")
SOURCE = Path("/scratch/in put.mp4")  # a space: argv lists need no quoting
OUT = Path("/scratch/out")


def planned(*, audio: bool, width: int = 1920, height: int = 1080) -> LadderPlan:
    info = SourceInfo(
        path=SOURCE,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=30.0,
        size_bytes=1,
        video=VideoInfo("h264", width, height, Fraction(1), 0, Fraction(25), "yuv420p", None),
        audio_tracks=(AudioInfo("aac", 6, "5.1", 48000, language="en"),) if audio else (),
    )
    return plan(info, load_ladder())


def values(argv: list[str], flag: str) -> list[str]:
    return [argv[index + 1] for index, arg in enumerate(argv) if arg == flag]


def outputs(argv: list[str]) -> list[list[str]]:
    """The argv split per output: each chunk starts at a -map and ends with its path."""
    starts = [index for index, arg in enumerate(argv) if arg == "-map"]
    return [argv[start:end] for start, end in zip(starts, [*starts[1:], len(argv)], strict=True)]


def test_the_ladder_decodes_once_and_splits_once() -> None:
    argv = ladder_argv(FFMPEG, SOURCE, planned(audio=True), OUT)
    assert argv[0] == str(FFMPEG)
    assert all(isinstance(arg, str) for arg in argv)
    assert values(argv, "-i") == [str(SOURCE)]
    (graph,) = values(argv, "-filter_complex")
    assert graph.count("split=") == 1 and "split=4[s0][s1][s2][s3]" in graph
    assert graph.count("[0:v:0]") == 1
    # Constant frame rate at the planned rate, then one scaler per rung.
    assert "fps=fps=25/1:start_time=0" in graph
    for size in ("640:360", "854:480", "1280:720", "1920:1080"):
        assert f"scale={size}" in graph


def test_every_rung_has_aligned_closed_gops_and_its_own_profile_and_level() -> None:
    ladder_plan = planned(audio=True)
    argv = ladder_argv(FFMPEG, SOURCE, ladder_plan, OUT)
    video_outputs = [chunk for chunk in outputs(argv) if "-c:v" in chunk]
    assert len(video_outputs) == len(ladder_plan.renditions)
    for chunk, rendition in zip(video_outputs, ladder_plan.renditions, strict=True):
        assert values(chunk, "-c:v") == ["libx264"]
        assert values(chunk, "-force_key_frames") == ["expr:gte(t,n_forced*2)"]
        assert values(chunk, "-sc_threshold") == ["0"]
        assert values(chunk, "-forced-idr") == ["1"]
        assert values(chunk, "-flags") == ["+cgop"]
        assert values(chunk, "-g") == ["50"]
        assert values(chunk, "-profile:v") == [rendition.profile]
        assert values(chunk, "-level:v") == [rendition.level]
        assert values(chunk, "-crf") == [str(rendition.crf)]
        assert values(chunk, "-maxrate") == [f"{rendition.maxrate_kbps}k"]
        assert values(chunk, "-bufsize") == [f"{rendition.bufsize_kbps}k"]
        assert values(chunk, "-hls_time") == ["4"]
        assert values(chunk, "-hls_segment_type") == ["fmp4"]
        assert values(chunk, "-start_number") == ["1"]
        folder = OUT / "video" / rendition.name
        assert values(chunk, "-hls_segment_filename") == [str(folder / "seg_%05d.m4s")]
        assert values(chunk, "-hls_fmp4_init_filename") == ["init.mp4"]
        assert chunk[-1].startswith(str(folder) + "/")


def test_a_surround_track_gives_stereo_and_5_1_from_one_chain() -> None:
    argv = ladder_argv(FFMPEG, SOURCE, planned(audio=True), OUT)
    stereo, surround = [chunk for chunk in outputs(argv) if "-c:a" in chunk]
    (graph,) = values(argv, "-filter_complex")
    # One chain per rendition from the same track: no asplit, whose outputs share a format.
    assert "[0:a:0]aresample=async=1:first_pts=0[a0]" in graph
    assert "[0:a:0]aresample=async=1:first_pts=0[a1]" in graph and "asplit" not in graph
    for chunk, label, channels, bitrate, folder in (
        (stereo, "[a0]", "2", "128k", "en-2ch"),
        (surround, "[a1]", "6", "384k", "en-6ch"),
    ):
        assert values(chunk, "-map") == [label]
        assert values(chunk, "-c:a") == ["aac"]
        assert values(chunk, "-profile:a") == ["aac_low"]
        assert values(chunk, "-ac") == [channels]
        assert values(chunk, "-ar") == ["48000"]
        assert values(chunk, "-b:a") == [bitrate]
        segments = str(OUT / "audio" / folder / "seg_%05d.m4s")
        assert values(chunk, "-hls_segment_filename") == [segments]
    assert values(argv, "-c:a") == ["aac", "aac"]  # per audio rendition, not per rung


def test_every_source_audio_track_is_mapped_by_its_own_index() -> None:
    info = SourceInfo(
        path=SOURCE,
        format_name="matroska,webm",
        duration_s=30.0,
        size_bytes=1,
        video=VideoInfo("h264", 640, 360, Fraction(1), 0, Fraction(25), "yuv420p", None),
        audio_tracks=(
            AudioInfo("aac", 2, "stereo", 48000, index=0, language="en", default=True),
            AudioInfo("opus", 1, "mono", 48000, index=2, language="fr"),
        ),
    )
    argv = ladder_argv(FFMPEG, SOURCE, plan(info, load_ladder()), OUT)
    (graph,) = values(argv, "-filter_complex")
    # Stream 1 (undecodable, left out by the probe) is skipped: indexes are the source's.
    assert "[0:a:0]aresample=async=1:first_pts=0[a0]" in graph
    assert "[0:a:2]aresample=async=1:first_pts=0[a1]" in graph
    folders = [values(c, "-hls_segment_filename") for c in outputs(argv) if "-c:a" in c]
    assert folders == [[str(OUT / f"audio/{name}/seg_%05d.m4s")] for name in ("en-2ch", "fr-2ch")]


def test_a_silent_source_gets_no_audio_arguments() -> None:
    argv = ladder_argv(FFMPEG, SOURCE, planned(audio=False), OUT)
    for flag in ("-c:a", "-ac", "-ar", "-b:a"):
        assert flag not in argv
    (graph,) = values(argv, "-filter_complex")
    assert "0:a" not in graph and "[a]" not in argv
    assert not any("audio" in arg for arg in argv)


def test_every_output_shares_one_positive_timeline_offset() -> None:
    for audio, expected in ((True, "80000us"), (False, "80000us")):
        argv = ladder_argv(FFMPEG, SOURCE, planned(audio=audio), OUT)
        chunks = outputs(argv)
        # Two frames at 25 fps covers both the B-frame delay and the AAC priming (21 ms).
        assert [values(chunk, "-output_ts_offset") for chunk in chunks] == [[expected]] * len(
            chunks
        )
    sixty = planned(audio=True)
    assert timeline_offset_us(dataclasses.replace(sixty, fps=Fraction(120))) == 25_000
    assert timeline_offset_us(dataclasses.replace(sixty, fps=Fraction(60))) == 33_334


def test_progress_goes_to_stdout_as_key_values() -> None:
    argv = ladder_argv(FFMPEG, SOURCE, planned(audio=False), OUT)
    assert values(argv, "-progress") == ["pipe:1"]
    assert "-nostdin" in argv and "-nostats" in argv


def test_a_single_rendition_still_has_a_well_formed_graph() -> None:
    ladder_plan = planned(audio=False, width=320, height=240)
    (graph,) = values(ladder_argv(FFMPEG, SOURCE, ladder_plan, OUT), "-filter_complex")
    assert re.fullmatch(r"\[0:v:0\][^;]*split=1\[s0\];\[s0\]scale=320:240[^;]*\[v0\]", graph)


def frame_plan(*, duration_s: float = 30.0, width: int = 1920, height: int = 1080) -> FramePlan:
    info = SourceInfo(
        path=SOURCE,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        duration_s=duration_s,
        size_bytes=1,
        video=VideoInfo("h264", width, height, Fraction(1), 0, Fraction(25), "yuv420p", None),
    )
    images = load_ladder().images.model_copy(update={"storyboard_interval_s": 2.5})
    return plan_frames(info, images, OUT / "frames")


def test_frames_are_more_branches_of_the_one_decode() -> None:
    argv = ladder_argv(FFMPEG, SOURCE, planned(audio=True), OUT, frame_plan())
    assert values(argv, "-i") == [str(SOURCE)]
    (graph,) = values(argv, "-filter_complex")
    assert graph.count("split=") == 1 and "split=6[s0][s1][s2][s3][sp][st]" in graph
    # The poster: past the fade-in (10% of 30 s), 20 candidates over 10 s, one picked.
    assert "[sp]trim=start=3.000,fps=2,trim=end_frame=20,scale=1280:720" in graph
    assert "thumbnail=n=20[poster]" in graph
    assert "[st]select='eq(n,0)+gt(floor(t/2.5),floor(prev_t/2.5))'," in graph
    assert "scale=160:90,setsar=1[thumbs]" in graph
    poster, thumbs = outputs(argv)[-2:]
    assert poster[:2] == ["-map", "[poster]"] and poster[-1] == str(OUT / "frames/poster.png")
    assert values(poster, "-update") == ["1"]
    assert thumbs[:2] == ["-map", "[thumbs]"]
    assert thumbs[-1] == str(OUT / "frames" / "storyboard" / "thumb_%05d.png")
    assert values(argv, "-fps_mode") == ["passthrough", "passthrough"]


def test_frames_of_a_portrait_short_clip_keep_its_shape() -> None:
    frames = frame_plan(duration_s=1.0, width=720, height=1280)
    assert frames.poster_size == (720, 1280)  # 720 wide: below the 1280 cap
    assert frames.thumbnail_size == (160, 284)
    # Shorter than the interval: one thumbnail, at t=0.
    assert frames.thumbnail_limit == 1


def test_without_frames_the_graph_has_no_image_branches() -> None:
    (graph,) = values(ladder_argv(FFMPEG, SOURCE, planned(audio=True), OUT), "-filter_complex")
    assert "[poster]" not in graph and "[thumbs]" not in graph


@pytest.mark.parametrize("manifest", ["master.m3u8", "manifest.mpd"])
def test_decode_check_maps_every_stream(manifest: str) -> None:
    argv = decode_check_argv(FFMPEG, OUT / manifest)
    assert values(argv, "-map") == ["0"] and argv[-3:] == ["-f", "framecrc", "-"]


def test_the_video_is_read_from_its_own_stream_not_a_cover_picture_before_it() -> None:
    after_cover = dataclasses.replace(planned(audio=False), video_index=1)
    (graph,) = values(ladder_argv(FFMPEG, SOURCE, after_cover, OUT), "-filter_complex")
    assert graph.startswith("[0:v:1]") and "[0:v:0]" not in graph


def test_text_subtitles_are_extracted_by_a_demux_only_run() -> None:
    argv = subtitles_argv(FFMPEG, SOURCE, [(0, OUT / "s0.vtt"), (2, OUT / "s2.vtt")])
    assert values(argv, "-map") == ["0:s:0", "0:s:2"]
    assert values(argv, "-c:s") == ["webvtt", "webvtt"] and values(argv, "-f") == ["webvtt"] * 2
    assert argv[-1] == str(OUT / "s2.vtt") and "-filter_complex" not in argv
