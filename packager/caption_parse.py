"""Reading caption files: WebVTT or SubRip SRT bytes in, a `CaptionDocument` out, or a
`CaptionError` naming the line of the file that is wrong.

Hand-written rather than `webvtt-py`: that library reads both formats, but its errors name no
line, and `POST /v1/assets/{id}/captions` must tell a user which line of their file to fix.
This module owns decoding and both grammars; `packager.caption_cues` what a cue may hold,
`packager.captions` the public face and the writers.

Where the WebVTT spec (https://www.w3.org/TR/webvtt1/) and a validator part ways, we refuse
what the spec's parser would silently drop: a block that is neither a cue nor a NOTE, STYLE or
REGION block is an error, not ignored text. A whitespace-only line counts as blank in both
formats, as hand-edited files expect.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import PurePath

from packager.caption_cues import (
    MAX_HOURS,
    CaptionDocument,
    CaptionError,
    CaptionFormat,
    Cue,
    cue_text,
)

MAX_BYTES = 5 * 1024 * 1024
MAX_CUES = 20_000

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # not str.splitlines: it also splits on \x0c, \u2028...
_SIGNATURE = re.compile(r"WEBVTT(?:[ \t].*)?")
_KEYWORD_BLOCK = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t].*)?")
_NUMBER = re.compile(r"[0-9]+", re.ASCII)
_LOOKS_TIMED = re.compile(r"\s*[0-9]+:[0-9]", re.ASCII)
_STAMP = re.compile(r"(?:([0-9]{1,9}):)?([0-9]{1,9}):([0-9]{1,9})([.,])([0-9]{1,9})", re.ASCII)
_SRT_COORDINATES = re.compile(r"(?:[XY][12]:-?[0-9]+[ \t]*)*", re.ASCII | re.IGNORECASE)
_EXPECTED = {"webvtt": "hh:mm:ss.ttt or mm:ss.ttt", "srt": "hh:mm:ss,ttt"}
_EXTENSIONS: dict[str, CaptionFormat] = {".vtt": "webvtt", ".webvtt": "webvtt", ".srt": "srt"}

# SRT's HTML-ish markup: <i>, <b>, <u> (any case) survive, <font> goes, {\an8}-style
# override codes (from ASS conversions) go.
_SRT_STYLE = re.compile(r"</?[ibu]>", re.IGNORECASE)
_SRT_DROPPED = re.compile(r"</?font(?:\s[^>]*)?>|\{\\[^}]*\}", re.IGNORECASE)


def parse_captions(
    data: bytes,
    *,
    filename: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_cues: int = MAX_CUES,
) -> CaptionDocument:
    """Parse WebVTT or SRT, told apart by content; `filename`'s extension only breaks a tie.

    WebVTT must be UTF-8 (with or without BOM), as its spec requires. SRT has no declared
    encoding: UTF-8 (BOM or not), UTF-16 with a BOM, and otherwise Windows-1252, which is a
    guess (the usual encoding of Windows-made SRT files), not a detection. Cues come sorted by
    start time, ties in file order; overlapping cues are legal.
    """
    if len(data) > max_bytes:
        raise CaptionError(1, f"the file is {len(data):,} bytes, over the limit of {max_bytes:,}")
    lines = _LINE_BREAK.split(_decode(data).replace("\0", "\ufffd"))
    source_format = _sniff(lines, filename)
    cues = _READERS[source_format](lines, max_cues)
    if not cues:
        raise CaptionError(1, "no cues: the file holds no timed text")
    ordered = tuple(sorted(cues, key=lambda cue: cue.start_ms))
    return CaptionDocument(ordered, source_format)


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = _strict(data, "utf-16")  # the codec reads the BOM for the byte order
        if _SIGNATURE.fullmatch(_LINE_BREAK.split(text, maxsplit=1)[0]):
            raise CaptionError(1, "this WebVTT file is UTF-16, but WebVTT must be UTF-8")
        return text
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if data.startswith(b"WEBVTT"):
            return _strict(data, "utf-8", " (WebVTT must be UTF-8)")
    return _strict(data, "cp1252", ", nor UTF-8")


def _strict(data: bytes, encoding: str, note: str = "") -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        before = data[: error.start].decode(encoding, errors="replace")
        byte = data[error.start]
        line = len(_LINE_BREAK.split(before))
        raise CaptionError(line, f"byte 0x{byte:02x} is not {encoding} text{note}") from None


def _sniff(lines: list[str], filename: str | None) -> CaptionFormat:
    if _SIGNATURE.fullmatch(lines[0]):
        return "webvtt"
    first = next((line.strip() for line in lines if line.strip()), None)
    if first is None:
        raise CaptionError(1, "no cues: the file is empty")
    hint = _EXTENSIONS.get(PurePath(filename).suffix.lower()) if filename else None
    if _NUMBER.fullmatch(first) or hint == "srt":
        return "srt"  # a bad SRT is best told by the SRT reader, which names its line
    found = _show(lines[0])
    if hint == "webvtt":
        raise CaptionError(1, f"a WebVTT file must start with the line 'WEBVTT', found {found}")
    raise CaptionError(
        1, f"neither WebVTT (starts with 'WEBVTT') nor SRT (starts with a cue number): {found}"
    )


def _read_webvtt(lines: list[str], max_cues: int) -> list[Cue]:
    start = 1
    # The header runs to the first blank line; a timing line ends it early, as in the spec.
    while start < len(lines) and lines[start].strip() and "-->" not in lines[start]:
        start += 1
    cues: list[Cue] = []
    for first, block in _webvtt_blocks(lines, start):
        if "-->" in block[0]:
            at = 0
        elif len(block) > 1 and "-->" in block[1]:
            at = 1
        elif _KEYWORD_BLOCK.fullmatch(block[0]):
            continue  # NOTE, STYLE, REGION: nothing of ours to keep
        else:
            raise _not_a_cue(first, block, "webvtt")
        _check_count(cues, max_cues, first + at + 1)
        start_ms, end_ms, settings = _timing(block[at], first + at + 1, "webvtt")
        identifier = block[0] if at else None
        cues.append(Cue(start_ms, end_ms, cue_text(block[at + 1 :]), identifier, settings))
    return cues


def _webvtt_blocks(lines: list[str], start: int) -> Iterator[tuple[int, list[str]]]:
    """Runs of non-blank lines with their 0-based first index. A '-->' line that cannot be
    this block's timing line (it has one, or already two lines) opens the next block, as the
    spec's parser does, so a missing blank line between cues costs nothing."""
    block: list[str] = []
    first = start
    for index in range(start, len(lines)):
        line = lines[index]
        if block and (not line.strip() or ("-->" in line and _has_timing(block))):
            yield first, block
            block = []
        if line.strip():
            first = index if not block else first
            block.append(line)
    if block:
        yield first, block


def _has_timing(block: list[str]) -> bool:
    return len(block) >= 2 or "-->" in block[0]


def _read_srt(lines: list[str], max_cues: int) -> list[Cue]:
    cues: list[Cue] = []
    for first, block in _srt_blocks(lines):
        number = block[0].strip()
        if not _NUMBER.fullmatch(number):
            raise _not_a_cue(first, block, "srt")
        if len(block) < 2:
            raise CaptionError(
                first + 2, f"expected the timing line {_EXPECTED['srt']} --> ... of cue {number}"
            )
        _check_count(cues, max_cues, first + 2)
        start_ms, end_ms, rest = _timing(block[1], first + 2, "srt")
        if not _SRT_COORDINATES.fullmatch(rest):
            raise CaptionError(first + 2, f"unexpected text after the end time: {_show(rest)}")
        cues.append(Cue(start_ms, end_ms, cue_text(map(_srt_markup, block[2:])), number))
    return cues


def _srt_markup(line: str) -> str:
    return _SRT_STYLE.sub(lambda tag: tag[0].lower(), _SRT_DROPPED.sub("", line))


def _srt_blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Cues as runs of non-blank lines; a number line followed by a timing line starts a new
    cue even without the blank line before it (a common slip in hand-edited files)."""
    block: list[str] = []
    first = 0
    for index, line in enumerate(lines):
        if block and (not line.strip() or (len(block) >= 2 and _starts_srt_cue(lines, index))):
            yield first, block
            block = []
        if line.strip():
            first = index if not block else first
            block.append(line)
    if block:
        yield first, block


def _starts_srt_cue(lines: list[str], index: int) -> bool:
    following = lines[index + 1] if index + 1 < len(lines) else ""
    return bool(_NUMBER.fullmatch(lines[index].strip())) and "-->" in following


def _not_a_cue(first: int, block: list[str], source_format: CaptionFormat) -> CaptionError:
    expected = f"{_EXPECTED[source_format]} --> {_EXPECTED[source_format]}"
    for offset, line in enumerate(block[:2]):
        if _LOOKS_TIMED.match(line) and "-->" not in line:  # a timing line with a broken arrow
            found = _show(line)
            return CaptionError(
                first + offset + 1, f"expected a timing line {expected}, found {found}"
            )
    found = _show(block[0])
    if source_format == "srt":
        return CaptionError(
            first + 1,
            f"expected a cue number (an SRT cue is a number, {expected}, text), found {found}",
        )
    return CaptionError(
        first + 1,
        f"{found} is not part of a cue (a blank line ends a cue's text) nor a NOTE, STYLE or "
        "REGION block",
    )


def _check_count(cues: list[Cue], max_cues: int, line: int) -> None:
    if len(cues) >= max_cues:
        raise CaptionError(line, f"more than {max_cues:,} cues")


def _timing(line: str, number: int, source_format: CaptionFormat) -> tuple[int, int, str]:
    """Start, end and what follows the end (WebVTT settings, SRT coordinates), verbatim."""
    if "-->" not in line:
        expected = f"{_EXPECTED[source_format]} --> {_EXPECTED[source_format]}"
        raise CaptionError(number, f"expected a timing line {expected}, found {_show(line)}")
    left, _, right = line.partition("-->")
    start_text = left.strip()
    # In WebVTT a payload line holding '-->' opens a new cue, so text lands here as timing.
    if start_text and not _LOOKS_TIMED.match(start_text):
        raise CaptionError(number, f"only a timing line may hold '-->', found {_show(line)}")
    end_text, *rest = re.split(r"[ \t]+", right.strip(), maxsplit=1)
    start = _timestamp(start_text, number, "start", source_format)
    end = _timestamp(end_text, number, "end", source_format)
    if end < start:
        raise CaptionError(number, f"end time {end_text} is before start time {start_text}")
    if end == start:
        raise CaptionError(
            number, f"end time {end_text} equals the start time: the cue never shows"
        )
    if rest and "-->" in rest[0]:
        raise CaptionError(number, f"a second '-->' on the timing line {_show(line)}")
    return start, end, "".join(rest).rstrip()


def _timestamp(text: str, number: int, which: str, source_format: CaptionFormat) -> int:
    expected = _EXPECTED[source_format]
    match = _STAMP.fullmatch(text)
    if match is None or (source_format == "srt" and match[1] is None):
        raise CaptionError(number, f"bad {which} time {_show(text)}: expected {expected}")
    hours, minutes, seconds, separator, millis = match.groups()
    for name, value, limit in (("hours", hours, MAX_HOURS), ("minutes", minutes, 59),
                               ("seconds", seconds, 59)):  # fmt: skip
        if value is not None and int(value) > limit:
            raise CaptionError(
                number, f"{name} {value} out of range 00-{limit} in {which} time {text}"
            )
    if len(minutes) != 2 or len(seconds) != 2 or len(millis) != 3:
        raise CaptionError(number, f"bad {which} time {text}: expected {expected} (two-digit "
                           "minutes and seconds, three-digit milliseconds)")  # fmt: skip
    if source_format == "webvtt" and separator != ".":
        raise CaptionError(
            number, f"{which} time {text}: WebVTT puts '.' before the milliseconds, not ','"
        )
    total_s = (int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)
    return total_s * 1000 + int(millis)


def _show(text: str) -> str:
    return repr(text if len(text) <= 60 else text[:57] + "...")


_READERS: dict[CaptionFormat, Callable[[list[str], int], list[Cue]]] = {
    "webvtt": _read_webvtt,
    "srt": _read_srt,
}
