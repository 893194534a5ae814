"""The transcoder tests run once per FFmpeg found (test ids say which), on generated inputs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image

from sample_media.generate import FIXTURES, Clip, generate, make_fixture
from streamcore.binaries import FFmpegInfo


@pytest.fixture(scope="session")
def ffmpeg(each_ffmpeg: FFmpegInfo) -> Path:
    """Here, every FFmpeg found: each makes its own inputs and runs the transcoder on them."""
    return each_ffmpeg.path


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory, ffmpeg: Path) -> dict[str, Path]:
    """Every fixture of sample_media.generate.FIXTURES, by name."""
    out = tmp_path_factory.mktemp("fixtures")
    return {name: make_fixture(str(ffmpeg), name, out) for name in FIXTURES}


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory, ffmpeg: Path) -> Path:
    """3 s of 640x360 at 25 fps with stereo audio."""
    clip = Clip("small", "small.mp4", 640, 360, 25, 3, 2, "")
    return generate(str(ffmpeg), clip, tmp_path_factory.mktemp("clips"))


@pytest.fixture(scope="session")
def rotated_anamorphic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """320x180 stored, 4:3 pixels, displayed a quarter turn: 180x427 on screen. No audio."""
    path = tmp_path_factory.mktemp("rotated") / "rotated.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.sample_aspect_ratio = Fraction(4, 3)
        stream.set_display_rotation(90)  # FFmpeg's convention: counterclockwise
        for index in range(50):
            image = Image.new("RGB", (320, 180), (index * 5, 64, 128))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
