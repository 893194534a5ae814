"""Where the encoder writes each track, in one place.

    <out>/video/<rendition>/init.mp4, seg_00001.m4s, seg_00002.m4s, ...
    <out>/audio/aac/init.mp4, seg_00001.m4s, ...

Segments are numbered from 1. The packager reads these files back from the paths it is
given; it never rebuilds them from names.
"""

from __future__ import annotations

from pathlib import Path

VIDEO_DIR = "video"
AUDIO_DIR = "audio"
AUDIO_TRACK = "aac"
INIT_NAME = "init.mp4"
SEGMENT_PATTERN = "seg_%05d.m4s"  # FFmpeg's printf-style pattern
SEGMENT_GLOB = "seg_*.m4s"
FIRST_SEGMENT_NUMBER = 1
# FFmpeg's HLS muxer always writes a playlist of its own; the packager writes the real ones
# from measured durations, so this one is deleted once the encode succeeds.
SCRATCH_PLAYLIST = "ffmpeg.m3u8"


def video_dir(out_dir: Path, rendition: str) -> Path:
    return out_dir / VIDEO_DIR / rendition


def audio_dir(out_dir: Path) -> Path:
    return out_dir / AUDIO_DIR / AUDIO_TRACK
