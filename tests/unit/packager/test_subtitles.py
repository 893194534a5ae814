"""Caption tracks beside a packaged ladder: WebVTT segments along the video's, and the master
playlist and MPD edited to name exactly the given tracks (packager/subtitles.py)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import m3u8
import pytest

from packager.captions import parse_captions
from packager.package import package
from packager.subtitles import (
    SubtitleTrack,
    hls_with_subtitles,
    mpd_with_text,
    segment_durations,
    write_track,
)
from tests.unit.packager.conftest import Encoded

NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
FRENCH = SubtitleTrack(
    "fr-subtitles", "fr", "Français", "subtitles",
    "subtitles/fr-subtitles/index.m3u8", "subtitles/fr-subtitles/fr-subtitles.vtt",
)  # fmt: skip
ENGLISH_CC = SubtitleTrack(
    "en-captions", "en", "English (CC)", "captions",
    "subtitles/en-captions/index.m3u8", "subtitles/en-captions/en-captions.vtt",
)  # fmt: skip


@pytest.fixture(scope="module")
def manifests(encoded: Encoded, tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = encoded.copy(tmp_path_factory.mktemp("subtitles") / "out")
    package(copy.out_dir, copy.inputs())
    return copy.out_dir


def test_the_master_names_exactly_the_given_tracks(manifests: Path) -> None:
    master = (manifests / "master.m3u8").read_text()
    with_two = hls_with_subtitles(master, [FRENCH, ENGLISH_CC])
    parsed = m3u8.loads(with_two)
    subs = [m for m in parsed.media if m.type == "SUBTITLES"]
    described = [(m.group_id, m.language, m.name, m.default, m.autoselect, m.uri) for m in subs]
    assert described == [
        ("subs", "fr", "Français", "NO", "YES", FRENCH.playlist_uri),
        ("subs", "en", "English (CC)", "NO", "YES", ENGLISH_CC.playlist_uri),
    ]  # fmt: skip
    assert subs[0].characteristics is None
    assert "describes-music-and-sound" in subs[1].characteristics
    assert all('SUBTITLES="subs"' in line for line in with_two.splitlines()
               if line.startswith("#EXT-X-STREAM-INF"))  # fmt: skip
    assert "SUBTITLES=" not in "".join(
        line for line in with_two.splitlines() if line.startswith("#EXT-X-I-FRAME")
    )
    # Idempotent, and an empty set gives back the master as packaged, byte for byte.
    assert hls_with_subtitles(with_two, [FRENCH, ENGLISH_CC]) == with_two
    assert hls_with_subtitles(with_two, []) == master
    only_french = m3u8.loads(hls_with_subtitles(with_two, [FRENCH]))
    assert [m.name for m in only_french.media if m.type == "SUBTITLES"] == ["Français"]


def test_the_mpd_gets_one_text_set_per_track(manifests: Path) -> None:
    mpd = (manifests / "manifest.mpd").read_text()
    edited = mpd_with_text(mpd, [FRENCH, ENGLISH_CC])
    root = ET.fromstring(edited)  # noqa: S314 (our own output)
    sets = root.findall("mpd:Period/mpd:AdaptationSet", NS)
    texts = [s for s in sets if s.get("contentType") == "text"]
    assert [(s.get("lang"), s.get("mimeType"), s.findtext("mpd:Label", namespaces=NS),
             s.find("mpd:Role", NS).get("value"),  # type: ignore[union-attr]
             s.findtext("mpd:Representation/mpd:BaseURL", namespaces=NS)) for s in texts] == [
        ("fr", "text/vtt", "Français", "subtitle", FRENCH.file_uri),
        ("en", "text/vtt", "English (CC)", "caption", ENGLISH_CC.file_uri),
    ]  # fmt: skip
    ids = [s.get("id") for s in sets]
    assert len(set(ids)) == len(ids)
    assert mpd_with_text(edited, [FRENCH, ENGLISH_CC]) == edited
    assert mpd_with_text(mpd_with_text(edited, []), [FRENCH, ENGLISH_CC]) == edited
    assert not [s for s in ET.fromstring(mpd_with_text(edited, [])).iter()  # noqa: S314
                if s.get("contentType") == "text"]  # fmt: skip


def test_a_track_follows_the_video_segments_and_its_offset(manifests: Path, tmp_path: Path) -> None:
    durations = segment_durations((manifests / "video/240p/index.m3u8").read_text())
    assert len(durations) == 2  # 5 s: 4 + 1
    document = parse_captions(
        b"WEBVTT\n\n00:00:00.500 --> 00:00:01.000\nun\n\n00:00:03.500 --> 00:00:04.500\ndeux\n"
    )
    folder = tmp_path / "fr-subtitles"
    written = write_track(document, durations, 80_000, folder, folder / "fr-subtitles.vtt")
    playlist = m3u8.load(str(folder / "index.m3u8"))
    assert [s.duration for s in playlist.segments] == pytest.approx(durations)
    first, second = (folder / s.uri for s in playlist.segments)
    assert [p.name for p in written] == [first.name, second.name, "index.m3u8", "fr-subtitles.vtt"]
    # A cue across the boundary is in both segments, with its own times.
    assert "un" in first.read_text() and "deux" in first.read_text()
    assert "deux" in second.read_text() and "un" not in second.read_text()
    for segment in (first, second):
        assert re.search(r"^X-TIMESTAMP-MAP=MPEGTS:7200,LOCAL:00:00:00.000$",
                         segment.read_text(), re.MULTILINE)  # fmt: skip
        parse_captions(segment.read_bytes())  # each segment is valid WebVTT on its own
    # The whole file (DASH) has no map: its cues are moved onto the media timeline instead.
    whole = (folder / "fr-subtitles.vtt").read_text()
    assert "00:00:00.580 --> 00:00:01.080" in whole and "00:00:03.580 --> 00:00:04.580" in whole
