"""A static DASH MPD (ISO/IEC 23009-1, isoff-live profile) for the same fMP4 tracks.

One video AdaptationSet (one Representation per rendition) and one audio AdaptationSet per
audio rendition (each language, stereo and 5.1 apart: DASH-IF IOP keeps channel layouts in
sets of their own, since switching between them is not seamless), each with its `lang`,
`Role`, `Label` and channel configuration. Each Representation has its own SegmentTemplate
whose SegmentTimeline is built from measured segment times, so the MPD references exactly
the files that exist. Built with ElementTree, never by string concatenation.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packager.tracks import AudioLabel, MeasuredTrack

MPD_NAME = "manifest.mpd"
NAMESPACE = "urn:mpeg:dash:schema:mpd:2011"
PROFILE = "urn:mpeg:dash:profile:isoff-live:2011"
CHANNEL_SCHEME = "urn:mpeg:dash:23003:3:audio_channel_configuration:2011"
ROLE_SCHEME = "urn:mpeg:dash:role:2011"
# ISO/IEC 23001-8 (CICP) code points, as DASH-IF IOP signals HDR: BT.2020 primaries and
# matrix, PQ (16) or HLG (18) transfer.
CICP = "urn:mpeg:mpegB:cicp:"
_CICP_BT2020 = "9"
_CICP_TRANSFER = {"PQ": "16", "HLG": "18"}
_CICP_BT2020_10BIT = "14"


@dataclass(frozen=True)
class BaseUrl:
    """An MPD-level BaseURL: one per CDN, told apart by `service_location`."""

    url: str
    service_location: str | None = None


def write_mpd(
    out_dir: Path,
    video: Sequence[MeasuredTrack],
    audio: Sequence[MeasuredTrack],
    *,
    base_urls: Sequence[BaseUrl] = (),
) -> Path:
    """``manifest.mpd`` in `out_dir`; segment URLs are relative to it (or to `base_urls`)."""
    tracks = [*video, *audio]
    duration = max(track.end_s for track in tracks)
    target = max(track.target_duration for track in tracks)
    mpd = ET.Element(
        "MPD",
        {
            "xmlns": NAMESPACE,
            "profiles": PROFILE,
            "type": "static",
            "mediaPresentationDuration": _iso_duration(duration),
            # A player holding one segment's worth can start: bandwidth is a measured peak.
            "minBufferTime": _iso_duration(target),
        },
    )
    for base in base_urls:
        element = ET.SubElement(mpd, "BaseURL")
        element.text = base.url
        if base.service_location is not None:
            element.set("serviceLocation", base.service_location)
    period = ET.SubElement(mpd, "Period", {"id": "0", "start": "PT0S"})
    sets = [[t for t in video if not t.is_hdr], [t for t in video if t.is_hdr]]
    sets = [tracks for tracks in sets if tracks]
    for number, tracks in enumerate(sets):
        _video_set(period, out_dir, tracks, number)
    main_language = next((t.label.language for t in audio if t.label and t.label.default), None)
    for number, track in enumerate(audio, start=len(sets)):
        _audio_set(period, out_dir, track, number, main_language)
    tree = ET.ElementTree(mpd)
    ET.indent(tree)
    path = out_dir / MPD_NAME
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path


def _video_set(
    period: ET.Element, out_dir: Path, video: Sequence[MeasuredTrack], number: int
) -> None:
    """One video AdaptationSet: the SDR ladder, or the HDR one (whose renditions cannot be
    switched to from SDR ones, and which clients that cannot show it must skip)."""
    rates = [track.frame_rate for track in video if track.frame_rate is not None]
    adaptation = ET.SubElement(
        period,
        "AdaptationSet",
        {
            "id": str(number),
            "contentType": "video",
            "mimeType": "video/mp4",
            # Keyframes at the same instants in every rendition: switch at any boundary.
            "segmentAlignment": "true",
            "startWithSAP": "1",
            "maxWidth": str(max(track.init.width or 0 for track in video)),
            "maxHeight": str(max(track.init.height or 0 for track in video)),
        },
    )
    if rates:
        adaptation.set("maxFrameRate", str(max(rates)))
    if video[0].is_hdr:
        _hdr_properties(adaptation, video[0].video_range)
    for track in video:
        representation = ET.SubElement(
            adaptation,
            "Representation",
            {
                "id": track.name,
                "bandwidth": str(track.peak_bitrate),
                "width": str(track.init.width),
                "height": str(track.init.height),
                "sar": "1:1",
                "codecs": track.init.codec,
            },
        )
        if track.frame_rate is not None:
            representation.set("frameRate", str(track.frame_rate))
        _segment_template(representation, out_dir, track)


def _hdr_properties(adaptation: ET.Element, video_range: str) -> None:
    """DASH-IF IOP's HDR signalling: EssentialProperty, so a client that does not know HDR
    leaves the set alone. HDR10 (PQ) says its transfer outright; HLG is backward compatible,
    so its EssentialProperty says BT.2020 10-bit and a SupplementalProperty adds HLG for
    clients that know it."""
    essential = [("ColourPrimaries", _CICP_BT2020), ("MatrixCoefficients", _CICP_BT2020)]
    if video_range == "PQ":
        essential.append(("TransferCharacteristics", _CICP_TRANSFER["PQ"]))
    else:
        essential.append(("TransferCharacteristics", _CICP_BT2020_10BIT))
    for name, value in essential:
        ET.SubElement(adaptation, "EssentialProperty", {"schemeIdUri": CICP + name, "value": value})
    if video_range == "HLG":
        ET.SubElement(
            adaptation,
            "SupplementalProperty",
            {"schemeIdUri": CICP + "TransferCharacteristics", "value": _CICP_TRANSFER["HLG"]},
        )


def _audio_set(
    period: ET.Element, out_dir: Path, audio: MeasuredTrack, number: int, main: str | None
) -> None:
    label = audio.label or AudioLabel()
    adaptation = ET.SubElement(
        period,
        "AdaptationSet",
        {
            "id": str(number),
            "contentType": "audio",
            "mimeType": "audio/mp4",
            "lang": label.language,
            "segmentAlignment": "true",
            "startWithSAP": "1",
            # dash.js (and the DASH spec's 4th edition) start with the highest priority
            # when the viewer has no language preference: the source's main stereo track.
            "selectionPriority": "2" if label.default else "1",
        },
    )
    # The schema's order: Label (RepresentationBase) before Role (AdaptationSet's own).
    ET.SubElement(adaptation, "Label").text = label.name
    ET.SubElement(adaptation, "Role", {"schemeIdUri": ROLE_SCHEME, "value": _role(label, main)})
    representation = ET.SubElement(
        adaptation,
        "Representation",
        {
            "id": audio.name,
            "bandwidth": str(audio.peak_bitrate),
            "codecs": audio.init.codec,
            "audioSamplingRate": str(audio.init.sample_rate),
        },
    )
    ET.SubElement(
        representation,
        "AudioChannelConfiguration",
        {"schemeIdUri": CHANNEL_SCHEME, "value": str(audio.init.channels)},
    )
    _segment_template(representation, out_dir, audio)


def _role(label: AudioLabel, main_language: str | None) -> str:
    # ISO/IEC 23009-1 5.8.5.5: main for the original language, dub for the others.
    if label.commentary:
        return "commentary"
    return "main" if main_language in (None, label.language) else "dub"


def _segment_template(parent: ET.Element, out_dir: Path, track: MeasuredTrack) -> None:
    directory = track.init_path.parent.relative_to(out_dir).as_posix()
    media, start_number = track.segment_template(directory)
    template = ET.SubElement(
        parent,
        "SegmentTemplate",
        {
            "timescale": str(track.timescale),
            "initialization": f"{directory}/{track.init_path.name}",
            "media": media,
            "startNumber": str(start_number),
        },
    )
    timeline = ET.SubElement(template, "SegmentTimeline")
    for start, duration, repeat in timeline_entries(track):
        entry = ET.SubElement(timeline, "S", {"d": str(duration)})
        if start is not None:
            entry.set("t", str(start))
        if repeat:
            entry.set("r", str(repeat))


def timeline_entries(track: MeasuredTrack) -> list[tuple[int | None, int, int]]:
    """(t, d, r) runs: t only where the timeline starts or jumps, r repeats equal d."""
    entries: list[tuple[int | None, int, int]] = []
    expected = None
    for segment in track.segments:
        start, duration = segment.presentation_start, segment.duration
        if entries and start == expected and entries[-1][1] == duration:
            first, _, repeat = entries[-1]
            entries[-1] = (first, duration, repeat + 1)
        else:
            entries.append((start if start != expected else None, duration, 0))
        expected = start + duration
    return entries


def _iso_duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"
