"""H.264 levels (ITU-T H.264 Annex A, table A-1): the smallest level a rendition fits in.

A level caps macroblocks per second, macroblocks per frame and the VBV bit rate; players
check it before they fetch a single segment, so it must be the real one, not "always 5.1".
"""

from __future__ import annotations

import math
from fractions import Fraction

# (level, max macroblocks/s, max macroblocks/frame, max bit rate in kbit/s for Main).
# Starts at 3.0: every device we serve decodes it, and lower levels buy nothing.
_LEVELS: tuple[tuple[str, int, int, int], ...] = (
    ("3.0", 40_500, 1_620, 10_000),
    ("3.1", 108_000, 3_600, 14_000),
    ("3.2", 216_000, 5_120, 20_000),
    ("4.0", 245_760, 8_192, 20_000),
    ("4.1", 245_760, 8_192, 50_000),
    ("4.2", 522_240, 8_704, 50_000),
    ("5.0", 589_824, 22_080, 135_000),
    ("5.1", 983_040, 36_864, 240_000),
    ("5.2", 2_073_600, 36_864, 240_000),
    ("6.0", 4_177_920, 139_264, 240_000),
    ("6.1", 8_355_840, 139_264, 480_000),
    ("6.2", 16_711_680, 139_264, 800_000),
)
# High profile may use 1.25 times the Main bit rate (table A-2, cpbBrVclFactor 1250 / 1000).
_BITRATE_FACTOR = {"baseline": 1.0, "main": 1.0, "high": 1.25}


class LevelError(ValueError):
    """No H.264 level holds this resolution, frame rate and bit rate."""


def h264_level(width: int, height: int, fps: Fraction, maxrate_kbps: int, profile: str) -> str:
    """The lowest level (as "4.0") for a width x height picture at `fps` and a VBV maxrate."""
    mbs_w, mbs_h = math.ceil(width / 16), math.ceil(height / 16)
    frame_mbs = mbs_w * mbs_h
    mbs_per_s = frame_mbs * fps
    for level, max_mbps, max_fs, max_br in _LEVELS:
        # A-3.1 (f): neither side may exceed sqrt(8 * MaxFS) macroblocks.
        side_limit = math.sqrt(8 * max_fs)
        if (
            frame_mbs <= max_fs
            and mbs_w <= side_limit
            and mbs_h <= side_limit
            and mbs_per_s <= max_mbps
            and maxrate_kbps <= max_br * _BITRATE_FACTOR[profile]
        ):
            return level
    raise LevelError(
        f"{width}x{height} at {float(fps):.3f} fps and {maxrate_kbps} kbit/s fits no H.264 level"
    )
