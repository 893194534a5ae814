from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from packager.bmff import read_init, read_segment
from packager.dash import BaseUrl, timeline_entries, write_mpd
from packager.package import package
from packager.tracks import measure

if TYPE_CHECKING:
    from tests.unit.packager.conftest import Encoded

NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}


def expand(template: ET.Element) -> tuple[str, list[tuple[str, int]]]:
    """The init path and (media path, start time) of every segment a SegmentTemplate names."""
    number = int(template.attrib["startNumber"])
    media = template.attrib["media"]
    segments, time = [], 0
    for entry in template.findall("mpd:SegmentTimeline/mpd:S", NS):
        time = int(entry.get("t", time))
        for _ in range(int(entry.get("r", "0")) + 1):
            path = re.sub(r"\$Number%0(\d+)d\$", lambda m, n=number: f"{n:0{m[1]}d}", media)
            segments.append((path, time))
            time += int(entry.attrib["d"])
            number += 1
    return template.attrib["initialization"], segments


@pytest.fixture
def mpd(encoded: Encoded, tmp_path: Path) -> tuple[Encoded, ET.Element]:
    copy = encoded.copy(tmp_path / "out")
    package(copy.out_dir, copy.inputs())
    return copy, ET.parse(copy.out_dir / "manifest.mpd").getroot()  # noqa: S314 (our own output)


def test_the_mpd_is_static_isoff_live(mpd: tuple[Encoded, ET.Element]) -> None:
    copy, root = mpd
    ends = [measure(t.kind, t.name, t.init, t.segments).end_s for t in copy.result.tracks]
    assert root.tag == "{urn:mpeg:dash:schema:mpd:2011}MPD"
    assert root.attrib["type"] == "static"
    assert root.attrib["profiles"] == "urn:mpeg:dash:profile:isoff-live:2011"
    # Where the last track ends: the timeline starts a few frames after 0 (see the
    # transcoder's timeline offset) and AAC frames overshoot the 5 s of video a little.
    assert max(ends) > 5.0
    assert root.attrib["mediaPresentationDuration"] == f"PT{max(ends):.3f}S"
    assert root.attrib["minBufferTime"] == "PT5.000S"
    assert root.findall("mpd:BaseURL", NS) == []


def test_the_mpd_references_exactly_the_files_that_exist(mpd: tuple[Encoded, ET.Element]) -> None:
    copy, root = mpd
    referenced = set()
    for template in root.iter("{urn:mpeg:dash:schema:mpd:2011}SegmentTemplate"):
        init, segments = expand(template)
        referenced |= {init, *(path for path, _ in segments)}
    on_disk = {
        p.relative_to(copy.out_dir).as_posix()
        for p in copy.out_dir.rglob("*")
        if p.suffix in (".mp4", ".m4s")
    }
    assert referenced == on_disk


def test_timelines_carry_the_measured_segment_times(mpd: tuple[Encoded, ET.Element]) -> None:
    copy, root = mpd
    for track in copy.result.tracks:
        rep = root.find(f".//mpd:Representation[@id='{track.name}']", NS)
        assert rep is not None
        template = rep.find("mpd:SegmentTemplate", NS)
        assert template is not None
        init = read_init(track.init)
        assert int(template.attrib["timescale"]) == init.timescale
        _, segments = expand(template)
        measured = [read_segment(path, init) for path in track.segments]
        # S@t is the earliest presentation time: tfdt plus the first composition offset.
        assert [time for _, time in segments] == [s.presentation_start for s in measured]
        assert all(s.presentation_start >= s.start for s in measured)


def test_representations_describe_the_media(mpd: tuple[Encoded, ET.Element]) -> None:
    copy, root = mpd
    video_set, audio_set = root.findall("mpd:Period/mpd:AdaptationSet", NS)
    assert video_set.attrib["segmentAlignment"] == "true"
    assert video_set.attrib["startWithSAP"] == "1"
    assert (video_set.attrib["maxWidth"], video_set.attrib["maxHeight"]) == ("640", "360")
    assert video_set.attrib["maxFrameRate"] == "25"
    for rep, track in zip(
        video_set.findall("mpd:Representation", NS), copy.result.video, strict=True
    ):
        measured = measure("video", track.name, track.init, track.segments)
        assert rep.attrib["id"] == track.name
        assert rep.attrib["codecs"] == measured.init.codec
        assert int(rep.attrib["bandwidth"]) == measured.peak_bitrate
        assert (int(rep.attrib["width"]), int(rep.attrib["height"])) == (
            measured.init.width,
            measured.init.height,
        )
        assert rep.attrib["sar"] == "1:1" and rep.attrib["frameRate"] == "25"
    assert audio_set.attrib["lang"] == "und"
    (audio,) = audio_set.findall("mpd:Representation", NS)
    assert audio.attrib["codecs"] == "mp4a.40.2"
    channels = audio.find("mpd:AudioChannelConfiguration", NS)
    assert channels is not None and channels.attrib["value"] == "2"


def test_base_urls_one_per_cdn(encoded: Encoded, tmp_path: Path) -> None:
    copy = encoded.copy(tmp_path / "out")
    video = [measure("video", t.name, t.init, t.segments) for t in copy.result.video]
    bases = [BaseUrl("https://a.example/v1/", "cdn-a"), BaseUrl("https://b.example/v1/", "cdn-b")]
    written = write_mpd(copy.out_dir, video, [], base_urls=bases)
    root = ET.parse(written).getroot()  # noqa: S314 (our own output)
    found = [(e.text, e.attrib.get("serviceLocation")) for e in root.findall("mpd:BaseURL", NS)]
    assert found == [("https://a.example/v1/", "cdn-a"), ("https://b.example/v1/", "cdn-b")]
    assert len(root.findall("mpd:Period/mpd:AdaptationSet", NS)) == 1  # video only


def test_timeline_runs_fold_equal_durations(encoded: Encoded) -> None:
    real = encoded.result.video[0]
    track = measure("video", "x", real.init, real.segments)
    base = track.segments[0]
    starts_and_durations = [(0, 4), (4, 4), (8, 4), (12, 2), (20, 4)]  # a gap before 20
    segments = tuple(
        replace(base, start=s, presentation_start=s, duration=d) for s, d in starts_and_durations
    )
    assert timeline_entries(replace(track, segments=segments)) == [
        (0, 4, 2),
        (None, 2, 0),
        (20, 4, 0),
    ]
