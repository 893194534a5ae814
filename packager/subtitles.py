"""Caption tracks published beside a ladder: segmented WebVTT for HLS, one file for DASH, and
the master playlist and MPD edited to name them.

Captions can be added to an asset long after its ladder was encoded, so the manifests are not
rewritten from measurements here but edited: `hls_with_subtitles` and `mpd_with_text` drop
whatever subtitle entries a manifest has and add the given ones, so publishing the same set
twice gives the same bytes (the worker's task is idempotent) and an empty set removes them all.

- HLS (RFC 8216bis 4.4.6.1): one ``EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs"`` per track,
  every variant naming the group (``SUBTITLES="subs"``); each track a media playlist of WebVTT
  segments with the video's own segment durations, so a player loads the cues of the segment
  it plays. Captions (sound described too) carry Apple's accessibility characteristics.
- DASH (ISO/IEC 23009-1 5.3.3, DASH-IF IOP 6.4.5): one text AdaptationSet per track,
  ``mimeType="text/vtt"``, its Representation the whole file by BaseURL, with a Role of
  ``subtitle`` or ``caption``.

Cue times are the caption file's, from the video's first frame. The media timeline starts
`first_media_time_us` later (the positive offset every track is encoded with), which the HLS
segments say with X-TIMESTAMP-MAP (packager.captions.segment_webvtt) and the DASH file, which
has no such header, by its cues being moved by the same amount.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from pathlib import Path

import m3u8

from packager.captions import CaptionDocument, segment_webvtt, to_webvtt
from packager.dash import NAMESPACE, ROLE_SCHEME
from packager.hls import MEDIA_NAME, VERSION

SUBTITLES_GROUP = "subs"
SEGMENT_PATTERN = "seg_{:05d}.vtt"
# Apple's HLS authoring spec: closed captions as SUBTITLES carry both characteristics.
CAPTION_CHARACTERISTICS = (
    "public.accessibility.transcribes-spoken-dialog,public.accessibility.describes-music-and-sound"
)
_TEXT_BANDWIDTH = "256"  # bits per second: a nominal figure; DASH requires one


@dataclass(frozen=True)
class SubtitleTrack:
    """A caption track as the manifests name it; URIs relative to the manifests' folder."""

    name: str  # fr-subtitles
    language: str  # BCP 47
    label: str
    kind: str  # subtitles | captions
    playlist_uri: str  # subtitles/fr-subtitles/index.m3u8
    file_uri: str  # subtitles/fr-subtitles/fr-subtitles.vtt


def write_track(
    document: CaptionDocument,
    segment_durations_s: Sequence[float],
    first_media_time_us: int,
    directory: Path,
    whole_file: Path,
) -> list[Path]:
    """The track's WebVTT segments and media playlist in `directory`, and its whole file."""
    edges = [round(edge * 1000) for edge in accumulate(segment_durations_s, initial=0.0)]
    segments = segment_webvtt(document, edges, timeline_offset_us=first_media_time_us)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    playlist = m3u8.M3U8()
    playlist.version = VERSION
    playlist.target_duration = math.ceil(max(segment_durations_s))
    playlist.playlist_type = "vod"
    playlist.is_endlist = True
    for number, (text, duration) in enumerate(zip(segments, segment_durations_s, strict=True), 1):
        path = directory / SEGMENT_PATTERN.format(number)
        path.write_text(text, encoding="utf-8")
        written.append(path)
        playlist.add_segment(m3u8.Segment(uri=path.name, duration=duration))
    index = directory / MEDIA_NAME
    index.write_text(playlist.dumps(infspec="microseconds"), encoding="utf-8")
    shift_ms = round(first_media_time_us / 1000)
    moved = replace(
        document,
        cues=tuple(
            replace(cue, start_ms=cue.start_ms + shift_ms, end_ms=cue.end_ms + shift_ms)
            for cue in document.cues
        ),
    )
    whole_file.parent.mkdir(parents=True, exist_ok=True)
    whole_file.write_text(to_webvtt(moved), encoding="utf-8")
    return [*written, index, whole_file]


def segment_durations(media_playlist: str) -> list[float]:
    """The EXTINF durations of a (video) media playlist: the segments captions follow."""
    return [segment.duration for segment in m3u8.loads(media_playlist).segments]


def hls_with_subtitles(master: str, tracks: Sequence[SubtitleTrack]) -> str:
    """`master` naming exactly `tracks` as its SUBTITLES group (none: no group at all)."""
    playlist = m3u8.loads(master)
    kept = [media for media in playlist.media if media.type != "SUBTITLES"]
    group = [_subtitle_media(track) for track in tracks]
    playlist.media = m3u8.MediaList([*kept, *group])
    for variant in playlist.playlists:
        # The m3u8 library writes a variant's AUDIO / SUBTITLES from its related media.
        variant.media = [m for m in variant.media if m.type != "SUBTITLES"] + group[:1]
        variant.stream_info.subtitles = SUBTITLES_GROUP if tracks else None
    return str(playlist.dumps())


def _subtitle_media(track: SubtitleTrack) -> m3u8.Media:
    return m3u8.Media(
        uri=track.playlist_uri,
        type="SUBTITLES",
        group_id=SUBTITLES_GROUP,
        language=track.language if track.language != "und" else None,
        name=track.label,
        default="NO",
        autoselect="YES",
        forced="NO",
        characteristics=CAPTION_CHARACTERISTICS if track.kind == "captions" else None,
    )


def mpd_with_text(mpd: str, tracks: Sequence[SubtitleTrack]) -> str:
    """`mpd` with exactly one text AdaptationSet per track in its (first) Period."""
    ET.register_namespace("", NAMESPACE)
    root = ET.fromstring(mpd)  # noqa: S314 (our own published MPD, not user input)
    period = root.find(f"{{{NAMESPACE}}}Period")
    if period is None:
        raise ValueError("the MPD has no Period")
    sets = period.findall(f"{{{NAMESPACE}}}AdaptationSet")
    for adaptation in sets:
        if adaptation.get("contentType") == "text":
            period.remove(adaptation)
    next_id = 1 + max((int(s.get("id", "0")) for s in sets if s.get("contentType") != "text"),
                      default=-1)  # fmt: skip
    for number, track in enumerate(tracks, start=next_id):
        _text_set(period, track, number)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _text_set(period: ET.Element, track: SubtitleTrack, number: int) -> None:
    q = f"{{{NAMESPACE}}}"
    adaptation = ET.SubElement(
        period,
        f"{q}AdaptationSet",
        {"id": str(number), "contentType": "text", "mimeType": "text/vtt", "lang": track.language},
    )
    ET.SubElement(adaptation, f"{q}Label").text = track.label
    role = "caption" if track.kind == "captions" else "subtitle"
    ET.SubElement(adaptation, f"{q}Role", {"schemeIdUri": ROLE_SCHEME, "value": role})
    representation = ET.SubElement(
        adaptation, f"{q}Representation", {"id": track.name, "bandwidth": _TEXT_BANDWIDTH}
    )
    ET.SubElement(representation, f"{q}BaseURL").text = track.file_uri
