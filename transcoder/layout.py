"""Where the encoder writes each track, in one place.

    <out>/video/<rendition>/init.mp4, seg_00001.m4s, seg_00002.m4s, ...
    <out>/audio/<track>/init.mp4, seg_00001.m4s, ...   (track: en-2ch, fr-2ch, en-6ch)

Segments are numbered from 1. The packager reads these files back from the paths it is
given; it never rebuilds them from names.
"""

from __future__ import annotations

from pathlib import Path

VIDEO_DIR = "video"
AUDIO_DIR = "audio"
INIT_NAME = "init.mp4"
SEGMENT_PATTERN = "seg_%05d.m4s"  # FFmpeg's printf-style pattern
SEGMENT_GLOB = "seg_*.m4s"
FIRST_SEGMENT_NUMBER = 1
# FFmpeg's HLS muxer always writes a playlist of its own; the packager writes the real ones
# from measured durations, so this one is deleted once the encode succeeds.
SCRATCH_PLAYLIST = "ffmpeg.m3u8"


def video_dir(out_dir: Path, rendition: str) -> Path:
    return out_dir / VIDEO_DIR / rendition


def audio_dir(out_dir: Path, track: str) -> Path:
    return out_dir / AUDIO_DIR / track


def finished_segments(out_dir: Path) -> list[Path]:
    """The segments FFmpeg has finished writing while it is still running, in every track.

    FFmpeg's HLS muxer (libavformat/hlsenc.c, 5.1 and later alike) buffers a track's fMP4
    fragment in memory and, at each cut, opens the segment under its final name (no
    hls_flags temp_file: ffmpeg_args asks for none), writes it whole and closes it; the
    next segment's file is created only at the next cut, and a closed one is never
    reopened. So segment n is finished once segment n + 1 of the same track exists. The
    last segment of each track, and init.mp4, are left to the end of the process.
    """
    finished = []
    for track in (*out_dir.glob(f"{VIDEO_DIR}/*"), *out_dir.glob(f"{AUDIO_DIR}/*")):
        present = sorted(track.glob(SEGMENT_GLOB))
        names = {path.name for path in present}
        for path in present:
            number = int(path.stem.removeprefix("seg_"))
            if SEGMENT_PATTERN % (number + 1) in names:
                finished.append(path)
    return finished
