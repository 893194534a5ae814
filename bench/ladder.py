"""Single-decode ladder vs one FFmpeg process per rung, and the whole pipeline vs its FFmpeg.

    .venv/bin/python bench/ladder.py                  # the 30 s 1080p25 sample clip
    .venv/bin/python bench/ladder.py --preset medium --rounds 3
    STREAMCORE_FFMPEG__PATH=/usr/bin/ffmpeg .venv/bin/python bench/ladder.py   # that FFmpeg
    .venv/bin/python bench/ladder.py --pipeline      # also (c): needs `streamcore up --detach`

(a) is what the pipeline runs: one process decodes the source once and feeds every rung.
(b) runs one process per rung, one after the other, with the same encoder settings (the
audio is encoded once, with the first rung, as in (a)). Both run through
transcoder.encode.encode_ladder, so both command lines come from transcoder.ffmpeg_args.
Rounds alternate the order; the best wall time of each way gives the speed-up b/a and the
real-time factor of (a). CPU time (user + system of the FFmpeg processes) is printed too:
on a shared machine it is the steadier measure of the work saved.

(c), with --pipeline: the same clip uploaded to the running stack's API, timed from the end
of the upload (the API's 202) to the asset's `ready`: the worker's download, the ladder's
FFmpeg (with the poster and storyboard frames), packaging, images and uploads. Its ratio to
the best (a) of the same run is the pipeline's overhead over the raw FFmpeg run (goal 1.10x);
the stack's worker must use the same FFmpeg and ladder as this process.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sample_media.generate import CLIPS, generate
from streamcore.binaries import FFmpegInfo, find_ffmpeg
from streamcore.settings import Settings, load_settings
from transcoder.encode import encode_ladder
from transcoder.ladder import LadderPlan, load_ladder, plan
from transcoder.probe import SourceInfo, probe

CACHE = Path(tempfile.gettempdir()) / "streamcore-bench"
CLIP = CLIPS["landscape_1080p25_30s"]


@dataclass(frozen=True)
class Cost:
    wall_s: float
    cpu_s: float  # user + system time of the FFmpeg children: robust to a busy machine


def measured(run: Callable[[], object]) -> Cost:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    run()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Cost(wall, cpu)


def single_decode(ffmpeg: Path, source: SourceInfo, ladder: LadderPlan, out: Path) -> Cost:
    return measured(lambda: encode_ladder(source, ladder, out, ffmpeg, None, timeout_s=3600))


def per_rung(ffmpeg: Path, source: SourceInfo, ladder: LadderPlan, out: Path) -> Cost:
    def run() -> None:
        for index, rendition in enumerate(ladder.renditions):
            one = replace(ladder, renditions=(rendition,), audio=ladder.audio if index == 0 else ())
            encode_ladder(source, one, out, ffmpeg, None, timeout_s=3600)

    return measured(run)


def pipeline(settings: Settings, clip: Path) -> float:
    """Upload `clip` to the stack; seconds from the upload's end to the asset's `ready`."""
    key = settings.auth.service_key().get_secret_value()
    with httpx.Client(
        base_url=settings.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        response = api.post(
            "/v1/assets",
            content=clip.read_bytes(),
            headers={
                "Content-Type": "application/octet-stream",
                "X-Filename": urllib.parse.quote(clip.name),
            },
        )
        uploaded = time.monotonic()
        response.raise_for_status()
        asset_id = response.json()["id"]
        try:
            while True:
                asset = api.get(f"/v1/assets/{asset_id}").json()
                if asset["status"] == "ready":
                    return time.monotonic() - uploaded
                if asset["status"] == "failed":
                    raise SystemExit(f"the asset failed: {asset.get('error')}")
                if time.monotonic() - uploaded > 3600:
                    raise SystemExit(f"the asset is not ready after an hour: {asset}")
                time.sleep(0.1)  # the poll is the measure's resolution
        finally:
            api.delete(f"/v1/assets/{asset_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", help="x264 preset (default: configs/ladder.yaml's)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, order alternating")
    parser.add_argument(
        "--pipeline", action="store_true", help="also (c), upload end to ready on the stack"
    )
    args = parser.parse_args()
    settings = load_settings()
    # The FFmpeg the settings name (ffmpeg.path), else PATH's, else the wheel's: as the stack.
    ffmpeg = find_ffmpeg(settings.ffmpeg.path)
    clip = CACHE / CLIP.filename
    if not clip.exists():
        generate(str(ffmpeg.path), CLIP, CACHE)
    config = load_ladder()
    if args.preset:
        config = config.model_copy(update={"preset": args.preset})
    source = probe(clip)
    ladder = plan(source, config)
    ways = {"a": single_decode, "b": per_rung}
    costs: dict[str, list[Cost]] = {"a": [], "b": []}
    pipelines: list[float] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-", dir=CACHE) as scratch:
        for round_index in range(args.rounds):
            # Alternate the order so that neither way always runs on a warmer machine.
            for name in "ab" if round_index % 2 == 0 else "ba":
                out = Path(scratch) / f"{name}{round_index}"
                costs[name].append(ways[name](ffmpeg.path, source, ladder, out))
            if args.pipeline:
                pipelines.append(pipeline(settings, clip))
    report(source, config.preset, ladder, ffmpeg, costs, load_before)
    if pipelines:
        a_wall = min(c.wall_s for c in costs["a"])
        runs = ", ".join(f"{wall:.1f} s" for wall in pipelines)
        print(f"{'(c) upload end to ready':26} {runs}")
        print(f"pipeline / raw FFmpeg (c/a, best of each): {min(pipelines) / a_wall:.2f}x "
              "(goal: 1.10x at most)")  # fmt: skip


def report(
    source: SourceInfo,
    preset: str,
    ladder: LadderPlan,
    ffmpeg: FFmpegInfo,
    costs: dict[str, list[Cost]],
    load_before: float,
) -> None:
    rungs = ", ".join(f"{r.name} {r.width}x{r.height}" for r in ladder.renditions)
    a_wall, b_wall = (min(c.wall_s for c in costs[n]) for n in "ab")
    a_cpu, b_cpu = (min(c.cpu_s for c in costs[n]) for n in "ab")
    print(
        f"machine:  {os.cpu_count()} cores, {platform.machine()}, "
        f"FFmpeg {ffmpeg.version} ({ffmpeg.source}: {ffmpeg.path})"
    )
    print(f"load:     {load_before:.1f} before, {os.getloadavg()[0]:.1f} after (1-min average)")
    print(f"clip:     {source.path.name} ({source.duration_s:.0f} s), preset {preset}")
    print(f"ladder:   {rungs} + AAC stereo")
    for name, label in (("a", "(a) single decode"), ("b", "(b) one process per rung")):
        runs = ", ".join(f"{c.wall_s:.1f} s wall / {c.cpu_s:.1f} s CPU" for c in costs[name])
        print(f"{label:26} {runs}")
    print(f"speed-up b/a (best wall):  {b_wall / a_wall:.2f}x")
    print(f"CPU saved b/a (best CPU):  {b_cpu / a_cpu:.2f}x")
    print(f"real-time factor of (a):   {source.duration_s / a_wall:.2f}x (best wall)")


if __name__ == "__main__":
    main()
