"""Real FFmpeg-made CMAF tracks for the packager tests, encoded once per session."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import yaml

from packager.package import AudioLabel, TrackInput
from sample_media.generate import Clip, generate
from transcoder.encode import EncodeResult, Track, encode_ladder
from transcoder.ladder import DEFAULT_LADDER, LadderPlan, parse_ladder, plan
from transcoder.probe import probe

# Two small rungs with different profiles, so codec strings can be told apart.
RUNGS = [
    {"name": "240p", "height": 240, "bitrate_kbps": 400, "maxrate_kbps": 600,
     "bufsize_kbps": 1200, "crf": 26, "profile": "main"},
    {"name": "360p", "height": 360, "bitrate_kbps": 800, "maxrate_kbps": 1200,
     "bufsize_kbps": 2400, "crf": 24, "profile": "high"},
]  # fmt: skip


@dataclass(frozen=True)
class Encoded:
    out_dir: Path
    result: EncodeResult
    plan: LadderPlan

    def inputs(self) -> list[TrackInput]:
        return inputs_for(self.out_dir, self.result, self.plan)

    def copy(self, target: Path) -> Encoded:
        """A private copy, for tests that write manifests beside the segments."""
        shutil.copytree(self.out_dir, target)
        moved = EncodeResult(
            video=tuple(_moved(track, self.out_dir, target) for track in self.result.video),
            audio=tuple(_moved(track, self.out_dir, target) for track in self.result.audio),
            frames=None,
            elapsed_s=self.result.elapsed_s,
        )
        return Encoded(target, moved, self.plan)


def _moved(track: Track, old: Path, new: Path) -> Track:
    return replace(
        track,
        directory=new / track.directory.relative_to(old),
        init=new / track.init.relative_to(old),
        segments=tuple(new / s.relative_to(old) for s in track.segments),
    )


def inputs_for(out_dir: Path, result: EncodeResult, ladder_plan: LadderPlan) -> list[TrackInput]:
    tracks = [
        TrackInput("video", t.name, t.init, t.segments, ladder_plan.fps) for t in result.video
    ]
    for track, audio in zip(result.audio, ladder_plan.audio, strict=True):
        label = AudioLabel(audio.language, audio.label, default=audio.main)
        tracks.append(TrackInput("audio", track.name, track.init, track.segments, label=label))
    return tracks


@pytest.fixture(scope="session")
def encoded(tmp_path_factory: pytest.TempPathFactory, ffmpeg: Path) -> Encoded:
    """5 s of 640x360 at 25 fps with stereo audio, as a 240p (Main) + 360p (High) ladder."""
    clips = tmp_path_factory.mktemp("packager-clips")
    clip = generate(str(ffmpeg), Clip("pkg", "pkg.mp4", 640, 360, 25, 5, 2, ""), clips)
    raw = yaml.safe_load(DEFAULT_LADDER.read_text()) | {"rungs": RUNGS}
    source = probe(clip)
    ladder_plan = plan(source, parse_ladder(raw))
    out = tmp_path_factory.mktemp("packager-encoded")
    result = encode_ladder(source, ladder_plan, out, ffmpeg, None, 120)
    return Encoded(out, result, ladder_plan)
