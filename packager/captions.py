"""Captions: user-supplied WebVTT or SRT read, checked and written back as WebVTT, whole (the
DASH text adaptation set, downloads) or cut along the media segments (HLS SUBTITLES).

A pure library like the rest of `packager/`: bytes in, strings out. The reader is
`packager.caption_parse` (with `packager.caption_cues`, what a cue may hold), hand-written
because `webvtt-py`, which reads both formats, names no line in its errors, and
`POST /v1/assets/{id}/captions` must tell a user which line of their file is wrong. This
module is the public face: the writers, and the language tags of captions and audio tracks.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import pairwise

import langcodes

from packager.caption_cues import CaptionDocument, CaptionError, CaptionFormat, Cue
from packager.caption_parse import MAX_BYTES, MAX_CUES, parse_captions

__all__ = [
    "CAPTION_KINDS",
    "MAX_BYTES",
    "MAX_CUES",
    "CaptionDocument",
    "CaptionError",
    "CaptionFormat",
    "Cue",
    "mpegts_for",
    "normalise_language",
    "parse_captions",
    "segment_webvtt",
    "to_webvtt",
]

logger = logging.getLogger(__name__)

# HLS EXT-X-MEDIA CHARACTERISTICS and DASH Role tell the two apart: "captions" transcribe
# sound effects too, for viewers who cannot hear; "subtitles" carry dialogue only.
CAPTION_KINDS = ("subtitles", "captions")
# MPEG-2 timestamps are 33-bit counters of a 90 kHz clock (RFC 8216 section 3.5).
MPEGTS_HZ = 90_000
MPEGTS_LIMIT = 2**33
_PRIMARY_LANGUAGE = re.compile(r"[a-z]{2,3}")


def to_webvtt(document: CaptionDocument, *, timestamp_map: tuple[int, int] | None = None) -> str:
    """The document as one WebVTT file; `timestamp_map=(mpegts_90khz, local_ms)` adds the
    header `X-TIMESTAMP-MAP=MPEGTS:<mpegts>,LOCAL:<local>` an HLS subtitle segment needs
    (RFC 8216 section 3.5, https://www.rfc-editor.org/rfc/rfc8216#section-3.5)."""
    header = "WEBVTT"
    if timestamp_map is not None:
        mpegts, local_ms = timestamp_map
        if not 0 <= mpegts < MPEGTS_LIMIT or local_ms < 0:
            raise ValueError(f"timestamp map {timestamp_map}: need 0 <= MPEGTS < 2**33, LOCAL >= 0")
        header += f"\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:{_timestamp(local_ms)}"
    return "\n\n".join([header, *map(_cue_block, document.cues)]) + "\n"


def segment_webvtt(
    document: CaptionDocument, boundaries_ms: Sequence[int], *, timeline_offset_us: int
) -> list[str]:
    """One WebVTT file per media segment; `boundaries_ms` are the N+1 edges of N segments in
    presentation time from 0, segment k spanning [boundaries[k], boundaries[k+1]).

    A cue goes, with its own times, into every segment it overlaps, so one crossing an edge
    repeats in both, as RFC 8216 and Apple's mediasubtitlesegmenter do (players drop the
    duplicate). A segment without cues is still written, header only, so the subtitle
    playlist has the video's segment count and durations. A cue running past the last edge
    stays in the last segment; one starting at or after it is dropped (and logged).

    Every file maps cue time 0 onto the media's first presentation time: our fMP4 timelines
    start at `timeline_offset_us` (the small offset FFmpeg adds so no timestamp is negative),
    and RFC 8216 section 3.5 (https://www.rfc-editor.org/rfc/rfc8216#section-3.5) says
    `X-TIMESTAMP-MAP=MPEGTS:<n>,LOCAL:<t>` pins cue time t to media time n on the 90 kHz
    clock. Hence `MPEGTS:<timeline_offset_us * 90 / 1000, rounded>,LOCAL:00:00:00.000` (see
    `mpegts_for`), the same in every segment, since cue times are never rebased.
    """
    edges = _checked_edges(boundaries_ms)
    mpegts = mpegts_for(timeline_offset_us)
    segments: list[list[Cue]] = [[] for _ in edges[1:]]
    for cue in document.cues:
        first = bisect_right(edges, cue.start_ms) - 1
        last = min(bisect_left(edges, cue.end_ms) - 1, len(segments) - 1)
        for index in range(first, last + 1):
            segments[index].append(cue)
    dropped = sum(cue.start_ms >= edges[-1] for cue in document.cues)
    if dropped:
        logger.warning("%d cues start at or after the media's end (%d ms)", dropped, edges[-1])
    return [
        to_webvtt(CaptionDocument(tuple(cues), document.source_format), timestamp_map=(mpegts, 0))
        for cues in segments
    ]


def mpegts_for(timeline_offset_us: int) -> int:
    """Microseconds on the 90 kHz MPEG-2 clock, rounded half up (integer maths: no float
    error, and no banker's rounding of `round`)."""
    if timeline_offset_us < 0:
        raise ValueError(f"timeline offset {timeline_offset_us} us is negative")
    mpegts = (timeline_offset_us * 9 + 50) // 100  # us * 90 / 1000 == us * 9 / 100
    if mpegts >= MPEGTS_LIMIT:
        raise ValueError(f"timeline offset {timeline_offset_us} us overflows 33-bit MPEG-2 time")
    return mpegts


def normalise_language(tag: str) -> str:
    """A BCP 47 tag of language, optional script and region, in canonical form: `en`, `pt-BR`,
    `zh-Hant`, `und`. ISO 639-2 codes become ISO 639-1 where one exists (`eng` -> `en`,
    `fre` -> `fr`), deprecated ones their replacement (`iw` -> `he`), and a redundant script
    goes (`en-Latn-US` -> `en-US`), all by `langcodes` from the IANA registry. Variants,
    extensions and private-use tags are refused: HLS and DASH players match on language,
    script and region only. Raises ValueError saying what is wrong."""
    try:
        standard = langcodes.standardize_tag(tag.strip())
    except langcodes.LanguageTagError as error:
        raise ValueError(f"{tag!r} is not a BCP 47 language tag: {error}") from None
    if not langcodes.tag_is_valid(standard):
        raise ValueError(f"{tag!r} is not a registered language tag (like en, pt-BR, zh-Hant)")
    parsed = langcodes.Language.get(standard)
    if parsed.variants or parsed.extensions or parsed.private:
        raise ValueError(
            f"{tag!r}: only language, script and region subtags are accepted (like en, pt-BR, "
            "zh-Hant), not variants, extensions or private use"
        )
    if not _PRIMARY_LANGUAGE.fullmatch(parsed.language or "und"):
        raise ValueError(f"{tag!r}: the language subtag must be 2 or 3 letters")
    return str(standard)


def _checked_edges(boundaries_ms: Sequence[int]) -> list[int]:
    edges = list(boundaries_ms)
    if len(edges) < 2 or edges[0] != 0:
        raise ValueError(f"segment boundaries {edges[:3]}...: need N+1 >= 2 edges from 0")
    if any(later <= earlier for earlier, later in pairwise(edges)):
        raise ValueError("segment boundaries must strictly increase")
    return edges


def _cue_block(cue: Cue) -> str:
    timing = f"{_timestamp(cue.start_ms)} --> {_timestamp(cue.end_ms)}"
    if cue.settings:
        timing += f" {cue.settings}"
    lines = [cue.identifier] if cue.identifier is not None else []
    lines.append(timing)
    if cue.text:
        lines.append(cue.text)
    return "\n".join(lines)


def _timestamp(ms: int) -> str:
    """hh:mm:ss.ttt, always with hours: valid in both WebVTT forms and easy to read."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
