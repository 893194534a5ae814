"""HDR sources (HLG as phones record, PQ/HDR10) become an SDR BT.709 H.264 ladder."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from sample_media.generate import hdr_clip
from tests.unit.transcoder.test_ffmpeg_args import planned
from transcoder.color import Color
from transcoder.encode import encode_ladder
from transcoder.ffmpeg_args import ladder_argv
from transcoder.ladder import LadderPlan, load_ladder, plan
from transcoder.probe import SourceInfo, VideoInfo, probe

BT709 = 1


@pytest.mark.parametrize(
    ("transfer", "dynamic_range"), [("arib-std-b67", "hlg"), ("smpte2084", "pq")]
)
def test_an_hdr_source_becomes_sdr_bt709_h264(
    ffmpeg: Path, tmp_path: Path, transfer: str, dynamic_range: str
) -> None:
    source = probe(hdr_clip(str(ffmpeg), tmp_path / "hdr.mp4", transfer))
    assert source.video.color.dynamic_range == dynamic_range
    assert source.to_dict()["video"]["color"]["transfer"] == transfer
    ladder_plan = plan(source, load_ladder())
    result = encode_ladder(source, ladder_plan, tmp_path / "out", ffmpeg, None, 120)
    # The SDR ladder first; the HDR one beside it (tests/integration/test_media_pipeline.py).
    assert [t.name for t in result.video] == ["240p", "240p-hdr"]
    track = result.video[0]
    joined = tmp_path / "joined.mp4"
    joined.write_bytes(track.init.read_bytes() + b"".join(s.read_bytes() for s in track.segments))
    with av.open(str(joined)) as container:
        stream = container.streams.video[0]
        context = stream.codec_context
        # The stream's own tags (the VUI of the SPS, as players read them) and each frame's.
        tags = (context.color_primaries, context.color_trc, context.colorspace)
        assert tags == (BT709, BT709, BT709)
        frames = list(container.decode(stream))
    assert frames and all(frame.format.name == "yuv420p" for frame in frames)
    luma = np.stack([frame.to_ndarray()[: frame.height] for frame in frames[-5:]])
    # Tone-mapped, not black and not clipped to white: the pattern keeps its contrast.
    assert 40 < luma.mean() < 200
    assert luma.std() > 20


def test_an_sdr_source_is_not_converted(ffmpeg: Path, tmp_path: Path) -> None:
    argv = ladder_argv(ffmpeg, tmp_path / "in.mp4", _sdr_plan(), tmp_path / "out")
    graph = argv[argv.index("-filter_complex") + 1]
    assert "zscale" not in graph and "tonemap" not in graph
    assert "-color_trc" not in argv


def test_a_hlg_plan_tone_maps_once_before_the_split(ffmpeg: Path, tmp_path: Path) -> None:
    hlg = _sdr_plan(Color(primaries=9, transfer=18, matrix=9, range=1))
    argv = ladder_argv(ffmpeg, tmp_path / "in.mp4", hlg, tmp_path / "out")
    graph = argv[argv.index("-filter_complex") + 1]
    decode = graph.split(";")[0]
    assert decode.count(",tonemap=") == 1 and decode.index("tonemap") < decode.index("split")
    assert "tin=18:pin=9:min=9:rin=tv" in decode
    assert argv.count("-color_trc") == len(hlg.renditions)


def test_wide_gamut_sdr_is_mapped_to_bt709_without_a_tone_curve() -> None:
    color = Color(primaries=9, transfer=14, matrix=9, range=1)
    assert color.needs_sdr_conversion and not color.is_hdr
    assert Color(primaries=1, transfer=1, matrix=1).needs_sdr_conversion is False
    # Unspecified (2) or absent tags on an HDR transfer read as BT.2020 non-constant.
    assert Color(transfer=16).zscale_input() == "tin=16:pin=9:min=9"


def _sdr_plan(color: Color | None = None) -> LadderPlan:
    base = planned(audio=True, width=1280, height=720)
    return base if color is None else dataclasses.replace(base, color=color)


def test_an_hdr_plan_branches_the_hevc_ladder_off_before_the_conversion() -> None:
    hlg = Color(primaries=9, transfer=18, matrix=9, range=1)
    base = planned(audio=False, width=1280, height=720)
    info = SourceInfo(
        path=Path("/in.mov"), format_name="mov", duration_s=10.0, size_bytes=1,
        video=VideoInfo("hevc", 1280, 720, Fraction(1), 0, Fraction(25), "yuv420p10le", None,
                        color=hlg),
    )  # fmt: skip
    hdr_plan = plan(info, load_ladder())
    assert [r.name for r in hdr_plan.hdr_renditions] == [f"{r.name}-hdr" for r in base.renditions]
    argv = ladder_argv(Path("/ffmpeg"), info.path, hdr_plan, Path("/out"))
    head, sdr, hdr, *_ = argv[argv.index("-filter_complex") + 1].split(";")
    assert head.endswith("split=2[sdr][hdr]") and "zscale" not in head
    assert sdr.startswith("[sdr]zscale") and hdr == "[hdr]split=3[h0][h1][h2]"
    x265 = [i for i, arg in enumerate(argv) if arg == "libx265"]
    assert len(x265) == 3 and argv.count("libx264") == 3
    chunk = argv[x265[0] :]
    params = chunk[chunk.index("-x265-params") + 1]
    assert "keyint=50:min-keyint=50:scenecut=0:open-gop=0" in params
    assert "colorprim=bt2020:transfer=arib-std-b67:colormatrix=bt2020nc" in params
    assert chunk[chunk.index("-tag:v") + 1] == "hvc1"
    assert chunk[chunk.index("-profile:v") + 1] == "main10"
    assert chunk[chunk.index("-force_key_frames") + 1] == "expr:gte(t,n_forced*2)"
    # The HDR ladder is a setting, on by default.
    off = load_ladder()
    off = off.model_copy(update={"hdr": off.hdr.model_copy(update={"enabled": False})})
    assert plan(info, off).hdr_renditions == ()
