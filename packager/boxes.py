"""ISO-BMFF boxes (ISO/IEC 14496-12 section 4.2): walk them, find them by path."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass


class BmffError(ValueError):
    """The file is not the fragmented MP4 we expect (or is cut short)."""


@dataclass(frozen=True)
class Box:
    type: str
    offset: int
    header_size: int
    size: int

    @property
    def body(self) -> int:
        return self.offset + self.header_size

    @property
    def end(self) -> int:
        return self.offset + self.size


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    end = len(data) if end is None else end
    offset = start
    while offset + 8 <= end:
        size, raw_type = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, offset + 8)
            header = 16
        elif size == 0:
            size = end - offset
        if size < header or offset + size > end:
            raise BmffError(f"box {raw_type!r} at {offset} overruns its parent (truncated?)")
        yield Box(raw_type.decode("latin-1"), offset, header, size)
        offset += size


def find(data: bytes, path: str, start: int = 0, end: int | None = None) -> Box | None:
    """The first box along a slash-separated path, e.g. ``moov/trak/mdia/mdhd``."""
    first, _, rest = path.partition("/")
    for box in iter_boxes(data, start, end):
        if box.type == first:
            return find(data, rest, box.body, box.end) if rest else box
    return None


def require(data: bytes, path: str, start: int = 0, end: int | None = None) -> Box:
    box = find(data, path, start, end)
    if box is None:
        raise BmffError(f"no {path} box")
    return box
