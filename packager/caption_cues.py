"""What a cue is: the `Cue` and `CaptionDocument` both caption formats are read into, the
`CaptionError` that names a line, and the WebVTT cue text a payload is turned into.

One definition for the reader (`packager.caption_parse`) and the writers
(`packager.captions`): a `Cue` that exists can be written as valid WebVTT and read back equal.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

CaptionFormat = Literal["webvtt", "srt"]

# WebVTT allows any number of hour digits, but no asset lasts 100 hours: a 3-digit hour is a
# typo, and both formats write two.
MAX_HOURS = 99
MAX_MS = (MAX_HOURS + 1) * 3_600_000 - 1  # 99:59:59.999

# WebVTT cue text markup (spec 4.2.2): the tags and timestamps a payload may keep; every other
# `<`, `>` and `&` is escaped, so what we write is valid WebVTT whatever came in.
_CLASSES = r"(?:\.[^\s.<>&]+)*"
_ALLOWED = (
    rf"<(?:c|i|b|u|ruby|rt){_CLASSES}>"
    rf"|<(?:v|lang){_CLASSES}[ \t]+[^<>&\n]+>"
    r"|</(?:c|i|b|u|v|lang|ruby|rt)>"
    r"|<(?:[0-9]+:)?[0-5][0-9]:[0-5][0-9]\.[0-9]{3}>"
    r"|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});"
)
_TOKEN = re.compile(rf"{_ALLOWED}|[&<>]", re.ASCII)
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


class CaptionError(ValueError):
    """A caption file that cannot be used, with the 1-based line of the original file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(line, message)  # both in args, so the error pickles (Celery, logs)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class Cue:
    """One cue; `text` is WebVTT cue text (markup and `&amp;`-style escapes, lines joined by
    newlines), `settings` the WebVTT cue settings as written (`line:0 align:start`)."""

    start_ms: int
    end_ms: int
    text: str
    identifier: str | None = None
    settings: str = ""

    def __post_init__(self) -> None:
        # What `to_webvtt` writes must read back: refuse what no WebVTT file can hold.
        if not 0 <= self.start_ms < self.end_ms <= MAX_MS:
            raise ValueError(
                f"cue times {self.start_ms}-{self.end_ms} ms: need 0 <= start < end <= {MAX_MS}"
            )
        if self.identifier is not None and not _one_line(self.identifier):
            raise ValueError(f"cue identifier {self.identifier!r} cannot be written in WebVTT")
        if self.settings and not _one_line(self.settings):
            raise ValueError(f"cue settings {self.settings!r} cannot be written in WebVTT")
        if self.text and not all(_one_line(line) for line in self.text.split("\n")):
            raise ValueError(f"cue text {self.text!r} has a blank line, a CR or '-->'")


def _one_line(text: str) -> bool:
    """Not blank, no line break, no '-->': what may stand on a line of a WebVTT cue."""
    return bool(text.strip()) and "-->" not in text and "\n" not in text and "\r" not in text


@dataclass(frozen=True)
class CaptionDocument:
    cues: tuple[Cue, ...]
    source_format: CaptionFormat


def cue_text(lines: Iterable[str]) -> str:
    """Payload lines as WebVTT cue text: allowed markup kept, other `<`, `>`, `&` escaped,
    which also turns a `-->` in the text into `--&gt;`; lines that end up blank dropped."""
    kept = [_TOKEN.sub(_keep_or_escape, line) for line in lines]
    return "\n".join(line for line in kept if line.strip())


def _keep_or_escape(match: re.Match[str]) -> str:
    token = match[0]
    if len(token) == 1 or "-->" in token:  # `<c.a-->`: a tag, but '-->' ends a cue early
        return "".join(_ESCAPES.get(char, char) for char in token)
    if token.startswith("&") and not _is_reference(token):
        return "&amp;" + token[1:]
    return token


def _is_reference(token: str) -> bool:
    """A character reference HTML knows (WebVTT takes HTML's): `&eacute;`, `&#233;`, `&#xE9;`."""
    if not token.startswith("&#"):
        return token[1:] in html.entities.html5
    code = int(token[3:-1], 16) if token[2] in "xX" else int(token[2:-1])
    return 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
