"""A source's colour (primaries, transfer, matrix, range) and its dynamic range.

Phones record HDR by default (HLG on iPhones and most Android cameras, PQ/HDR10 on others;
Dolby Vision profile 8 is an HDR10 or HLG base layer with metadata on top, so its base layer
is recognised here by its transfer). The H.264 ladder is always SDR BT.709 (8-bit H.264 with
HDR tags is outside Apple's HLS authoring rules and wrong on SDR screens), so what this
module decides is whether the ladder's one decode must be converted before it is split.

The numbers are FFmpeg's own enum values (AVColorPrimaries, AVColorTransferCharacteristic,
AVColorSpace, AVColorRange), which is what PyAV reports and what zscale's options take.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DynamicRange = Literal["sdr", "pq", "hlg"]

# AVColorTransferCharacteristic
TRANSFER_BT709 = 1
TRANSFER_PQ = 16  # SMPTE ST 2084
TRANSFER_HLG = 18  # ARIB STD-B67
# AVColorPrimaries
PRIMARIES_BT2020 = 9
# AVColorSpace (the matrix)
MATRIX_BT709 = 1
MATRIX_BT2020_NCL = 9
# AVColorRange
_RANGES = {1: "tv", 2: "pc"}
UNSPECIFIED = 2

_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 11: "smpte431"}
_PRIMARIES |= {12: "smpte432"}
_TRANSFERS = {1: "bt709", 6: "smpte170m", 8: "linear", 13: "iec61966-2-1", 14: "bt2020-10"}
_TRANSFERS |= {15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
_MATRICES = {0: "gbr", 1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc", 10: "bt2020c"}
# Gamuts wider than BT.709 that an SDR H.264 ladder must be mapped out of.
_WIDE_GAMUTS = frozenset({9, 11, 12})


def _name(table: dict[int, str], value: int | None) -> str | None:
    if value is None or value == UNSPECIFIED:
        return None
    return table.get(value, str(value))


@dataclass(frozen=True)
class Color:
    """FFmpeg enum values as probed; None where the source does not say."""

    primaries: int | None = None
    transfer: int | None = None
    matrix: int | None = None
    range: int | None = None

    @property
    def dynamic_range(self) -> DynamicRange:
        if self.transfer == TRANSFER_PQ:
            return "pq"
        if self.transfer == TRANSFER_HLG:
            return "hlg"
        return "sdr"

    @property
    def is_hdr(self) -> bool:
        return self.dynamic_range != "sdr"

    @property
    def wide_gamut(self) -> bool:
        return self.primaries in _WIDE_GAMUTS

    @property
    def needs_sdr_conversion(self) -> bool:
        """HDR, or SDR in a gamut wider than BT.709 (10-bit BT.2020 SDR from cameras)."""
        return self.is_hdr or self.wide_gamut

    def names(self) -> dict[str, str | None]:
        """FFmpeg's names for each field (what ffprobe prints), for people and the API."""
        return {
            "primaries": _name(_PRIMARIES, self.primaries),
            "transfer": _name(_TRANSFERS, self.transfer),
            "matrix": _name(_MATRICES, self.matrix),
            "range": _RANGES.get(self.range or 0),
            "dynamic_range": self.dynamic_range,
        }

    def hdr_tags(self) -> dict[str, str]:
        """The HDR ladder's tags: BT.2020 primaries and matrix (what HDR10 and HLG are
        defined in, whatever a source left unsaid), the source's own PQ or HLG transfer."""
        if not self.is_hdr:
            raise ValueError("an SDR source has no HDR tags")
        return {
            "primaries": _PRIMARIES[PRIMARIES_BT2020],
            "transfer": _TRANSFERS[TRANSFER_PQ if self.dynamic_range == "pq" else TRANSFER_HLG],
            "matrix": _MATRICES[MATRIX_BT2020_NCL],
        }

    def zscale_input(self) -> str:
        """zscale's input options: what the source declares, so a stream whose frames carry
        no colour properties is still read as probed. A wide-gamut or HDR source that leaves
        its matrix unspecified is BT.2020 non-constant luminance in practice."""
        primaries = self.primaries
        if primaries in (None, UNSPECIFIED):
            primaries = PRIMARIES_BT2020
        matrix = self.matrix
        if matrix in (None, UNSPECIFIED):
            matrix = MATRIX_BT2020_NCL if primaries == PRIMARIES_BT2020 else MATRIX_BT709
        transfer = self.transfer
        if transfer in (None, UNSPECIFIED):
            transfer = TRANSFER_BT709
        options = [f"tin={transfer}", f"pin={primaries}", f"min={matrix}"]
        if self.range in _RANGES:
            options.append(f"rin={_RANGES[self.range]}")
        return ":".join(options)
