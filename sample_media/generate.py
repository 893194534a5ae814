"""Generate the sample clips and the small test fixtures from FFmpeg's test sources.

Nothing large is committed: every clip is made on demand, deterministically, by FFmpeg.
These command lines are test material, not product code, which is why they live here rather
than in the transcoder's argv builder.

    python sample_media/generate.py                 # every sample clip into sample_media/out/
    python sample_media/generate.py --only portrait_720p_10s --out /tmp/x
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "out"


@dataclass(frozen=True)
class Clip:
    name: str
    filename: str
    width: int
    height: int
    fps: int
    duration_s: float
    audio_channels: int  # 0: no audio track at all
    description: str


def _stereo(duration_s: float) -> list[str]:
    # Different tones left and right, so a wrong downmix or channel swap is audible.
    return [
        "-f", "lavfi",
        "-i", f"aevalsrc=0.3*sin(440*2*PI*t)|0.3*sin(660*2*PI*t):s=48000:d={duration_s}",
    ]  # fmt: skip


def _surround(duration_s: float) -> list[str]:
    tones = "|".join(f"0.2*sin({220 * (i + 1)}*2*PI*t)" for i in range(6))
    return [
        "-f", "lavfi",
        "-i", f"aevalsrc={tones}:s=48000:c=5.1:d={duration_s}",
    ]  # fmt: skip


def clip_argv(ffmpeg: str, clip: Clip, out: Path) -> list[str]:
    """FFmpeg argv for one clip: a moving test pattern that fades in from black."""
    video = (
        f"testsrc2=size={clip.width}x{clip.height}:rate={clip.fps}:duration={clip.duration_s},"
        # One second of fade-in: the first frames are black, as many real videos' are.
        f"fade=in:st=0:d=1,format=yuv420p"
    )
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video]
    if clip.audio_channels == 2:
        argv += _stereo(clip.duration_s)
    elif clip.audio_channels == 6:
        argv += _surround(clip.duration_s)
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    if clip.audio_channels:
        argv += ["-c:a", "aac", "-b:a", "128k"]
    argv += ["-shortest", "-movflags", "+faststart", str(out)]
    return argv


CLIPS: dict[str, Clip] = {
    clip.name: clip
    for clip in (
        Clip("landscape_1080p25_30s", "landscape_1080p25_30s.mp4", 1920, 1080, 25, 30, 2,
             "30 s 1080p25 with stereo audio: the full ladder"),
        Clip("portrait_720p_10s", "portrait_720p_10s.mp4", 720, 1280, 30, 10, 2,
             "10 s 720x1280 portrait: the short side drives the ladder"),
        Clip("silent_480p_10s", "silent_480p_10s.mp4", 854, 480, 24, 10, 0,
             "10 s without an audio track: video-only output"),
    )
}  # fmt: skip


def generate(ffmpeg: str, clip: Clip, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / clip.filename
    subprocess.run(clip_argv(ffmpeg, clip, path), check=True, stdin=subprocess.DEVNULL)
    return path


def hdr_clip(ffmpeg: str, out: Path, transfer: str) -> Path:
    """2 s of 10-bit HEVC tagged BT.2020 with `transfer` (arib-std-b67: HLG, as phones
    record; smpte2084: PQ/HDR10), with stereo audio.

    The pixels are the SDR test pattern rescaled, not graded HDR: what the tests check is
    that the pipeline reads the tags and converts, and that the result is neither black nor
    clipped white.
    """
    # The tags go on the frames (setparams): FFmpeg 7 and later take an encoder's colour
    # from its frames, and the -color_* output options alone no longer reach the stream.
    video = (
        "testsrc2=size=320x240:rate=25:duration=2,format=yuv420p10le,setparams="
        f"color_primaries=bt2020:color_trc={transfer}:colorspace=bt2020nc:range=tv"
    )
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video]
    argv += _stereo(2)
    argv += ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"]
    argv += ["-tag:v", "hvc1", "-pix_fmt", "yuv420p10le"]
    argv += ["-color_primaries", "bt2020", "-color_trc", transfer, "-colorspace", "bt2020nc"]
    argv += ["-color_range", "tv", "-c:a", "aac", "-shortest"]
    argv += [str(out)]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    return out


def multi_audio_clip(ffmpeg: str, out: Path, duration_s: float = 3.0) -> Path:
    """320x240 with three audio tracks, as a studio delivers: English stereo (the default),
    French 5.1 and a Spanish mono 96 kHz dub with a title tag; each at its own pitch.

    `out`'s suffix picks the container (.mp4, .mov or .mkv all carry the language tags).
    """
    video = f"testsrc2=size=320x240:rate=25:duration={duration_s}"
    surround = "|".join(f"0.2*sin({330 * (i + 1)}*2*PI*t)" for i in range(6))
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video]
    argv += _stereo(duration_s)
    argv += ["-f", "lavfi", "-i", f"aevalsrc={surround}:s=48000:c=5.1:d={duration_s}"]
    argv += ["-f", "lavfi", "-i", f"aevalsrc=0.3*sin(550*2*PI*t):s=96000:d={duration_s}"]
    argv += ["-map", "0:v", "-map", "1:a", "-map", "2:a", "-map", "3:a"]
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    argv += ["-c:a", "aac", "-b:a", "128k", "-b:a:1", "256k"]
    argv += ["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fre"]
    argv += ["-metadata:s:a:2", "language=spa", "-metadata:s:a:2", "title=Español (doblaje)"]
    argv += ["-disposition:a:0", "default", "-disposition:a:1", "0", "-disposition:a:2", "0"]
    argv += ["-shortest", str(out)]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    return out


def subtitled_clip(ffmpeg: str, out: Path, duration_s: float = 3.0) -> Path:
    """320x240 with stereo audio and the text subtitles a phone or studio MP4 carries
    (mov_text): French subtitles and English captions (hearing impaired), cues at 0.5-1.5 s
    and 2.0-2.8 s."""
    folder = out.parent
    french = folder / f"{out.stem}.fr.srt"
    french.write_text(
        "1\n00:00:00,500 --> 00:00:01,500\nBonjour le monde\n\n"
        "2\n00:00:02,000 --> 00:00:02,800\nDeuxième réplique\n",
        encoding="utf-8",
    )
    english = folder / f"{out.stem}.en.srt"
    english.write_text("1\n00:00:00,500 --> 00:00:01,500\n[door slams]\n", encoding="utf-8")
    video = f"testsrc2=size=320x240:rate=25:duration={duration_s}"
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", video]
    argv += _stereo(duration_s)
    argv += ["-i", str(french), "-i", str(english)]
    argv += ["-map", "0:v", "-map", "1:a", "-map", "2:s", "-map", "3:s"]
    argv += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    argv += ["-c:s", "mov_text", "-metadata:s:s:0", "language=fre"]
    argv += ["-metadata:s:s:1", "language=eng", "-disposition:s:1", "hearing_impaired"]
    # No -shortest: FFmpeg 9 ends the subtitle streams with the shortest of them.
    argv += [str(out)]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    french.unlink()
    english.unlink()
    return out


# -- bad and unusual inputs for the tests ---------------------------------------------------


def _zero_bytes(ffmpeg: str, path: Path) -> None:
    path.write_bytes(b"")


def _text_named_mp4(ffmpeg: str, path: Path) -> None:
    path.write_text("this is not a video, whatever its name says\n" * 20)


def _truncated_mp4(ffmpeg: str, path: Path) -> None:
    whole = path.with_name("whole-" + path.name)
    generate(ffmpeg, Clip("tmp", whole.name, 320, 240, 25, 3, 2, ""), path.parent)
    data = whole.read_bytes()
    whole.unlink()
    # Keeps the header (faststart puts moov first) but cuts the media data short.
    path.write_bytes(data[: len(data) // 3])


def _audio_only(ffmpeg: str, path: Path) -> None:
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *_stereo(3), "-c:a", "aac", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
    )


def _still_png(ffmpeg: str, path: Path) -> None:
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=1:duration=1",
            "-frames:v", "1", str(path),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _huge_resolution(ffmpeg: str, path: Path) -> None:
    """A real, tiny H.264 stream declaring 8192x8192 (67 Mpixel): above the limit, refused."""
    subprocess.run(
        [
            ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "color=c=black:size=8192x8192:rate=1:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-frames:v", "1", str(path),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _surround_51(ffmpeg: str, path: Path) -> None:
    clip = Clip("surround", path.name, 320, 240, 25, 3, 6, "")
    subprocess.run(clip_argv(ffmpeg, clip, path), check=True, stdin=subprocess.DEVNULL)


def _undecodable_audio(ffmpeg: str, path: Path) -> None:
    """A MOV whose second audio track has a sample entry no decoder knows ('xq1z' in place
    of PCM's 'sowt'): it demuxes, so the probe sees it, but nothing can decode it."""
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y"]
    argv += ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=3"]
    argv += ["-f", "lavfi", "-i", "sine=f=440:d=3:r=48000"]
    argv += ["-f", "lavfi", "-i", "sine=f=880:d=3:r=48000"]
    argv += ["-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast"]
    argv += ["-pix_fmt", "yuv420p", "-c:a:0", "aac", "-c:a:1", "pcm_s16le", "-shortest"]
    argv += [str(path)]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
    data = path.read_bytes()
    if data.count(b"sowt") != 1:
        raise RuntimeError(f"{path}: expected one 'sowt' sample entry to rename")
    path.write_bytes(data.replace(b"sowt", b"xq1z"))


# -- what phones and cameras make (issue 18) ------------------------------------------------


def _run(ffmpeg: str, *args: str) -> None:
    argv = [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args]
    subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)


_SMALL = "testsrc2=size=320x240:rate={rate}:duration={duration}"
_X264 = ("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p")


def _variable_frame_rate(ffmpeg: str, path: Path) -> None:
    """A phone's variable frame rate: 30 fps with one frame in 40 dropped and the others kept
    at their capture times (-fps_mode vfr), an average of 29.3 fps; with stereo audio as
    long as the video (its last frame starts at 179/30 s)."""
    _run(ffmpeg, "-f", "lavfi", "-i", _SMALL.format(rate=30, duration=6), *_stereo(179 / 30),
         "-vf", "select='not(eq(mod(n,40),17))'", "-fps_mode", "vfr", *_X264,
         "-c:a", "aac", str(path))  # fmt: skip


def _ten_bit_sdr(ffmpeg: str, path: Path) -> None:
    """10-bit HEVC tagged BT.709 (SDR), as cameras record 'HEVC 10-bit' by default."""
    video = _SMALL.format(rate=25, duration=2) + (
        ",format=yuv420p10le,setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709"
    )
    _run(ffmpeg, "-f", "lavfi", "-i", video, "-c:v", "libx265", "-preset", "ultrafast",
         "-x265-params", "log-level=error", "-tag:v", "hvc1", "-pix_fmt", "yuv420p10le",
         "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
         str(path))  # fmt: skip


def _one_second(ffmpeg: str, path: Path) -> None:
    """Shorter than one segment (and than the poster's skip and window)."""
    _run(ffmpeg, "-f", "lavfi", "-i", _SMALL.format(rate=25, duration=1), *_stereo(1), *_X264,
         "-c:a", "aac", "-shortest", str(path))  # fmt: skip


def _open_gop(ffmpeg: str, path: Path) -> None:
    """Long open GOPs (one keyframe in 6 s, B-frames referring across it), as broadcast and
    some camera encoders write: the ladder's own GOPs must still be closed and aligned."""
    _run(ffmpeg, "-f", "lavfi", "-i", _SMALL.format(rate=25, duration=6), *_stereo(6), *_X264,
         "-x264-params", "open-gop=1:keyint=150:min-keyint=150:scenecut=0:bframes=3",
         "-c:a", "aac", "-shortest", str(path))  # fmt: skip


def _cover_art(ffmpeg: str, path: Path) -> None:
    """An MKV with a cover picture attached (image/jpeg), which demuxers show as a second
    video stream with the attached_pic disposition."""
    cover = path.with_suffix(".cover.jpg")
    _run(ffmpeg, "-f", "lavfi", "-i", "color=c=red:size=200x200", "-frames:v", "1", str(cover))
    _run(ffmpeg, "-f", "lavfi", "-i", _SMALL.format(rate=25, duration=2), *_X264,
         "-attach", str(cover), "-metadata:s:t", "mimetype=image/jpeg",
         "-metadata:s:t", "filename=cover.jpg", str(path))  # fmt: skip
    cover.unlink()


def _audio_only_cover_art(ffmpeg: str, path: Path) -> None:
    """A voice memo or song (M4A) with cover art: a picture, not a video."""
    cover = path.with_suffix(".cover.png")
    _run(ffmpeg, "-f", "lavfi", "-i", "color=c=blue:size=200x200", "-frames:v", "1", str(cover))
    _run(ffmpeg, *_stereo(3), "-i", str(cover), "-map", "0:a", "-map", "1:v", "-c:a", "aac",
         "-c:v", "png", "-disposition:v", "attached_pic", str(path))  # fmt: skip
    cover.unlink()


def _odd_audio_layouts(ffmpeg: str, path: Path) -> None:
    """An MKV with a 7.1 track and a quadraphonic (4.0) one, as some studio and camera files
    carry: 7.1 is folded to 5.1 beside its stereo; 4.0 gets stereo only."""
    seven = "|".join(f"0.1*sin({200 + 60 * i}*2*PI*t)" for i in range(8))
    quad = "|".join(f"0.1*sin({700 + 80 * i}*2*PI*t)" for i in range(4))
    _run(ffmpeg, "-f", "lavfi", "-i", _SMALL.format(rate=25, duration=2),
         "-f", "lavfi", "-i", f"aevalsrc={seven}:s=48000:c=7.1:d=2",
         "-f", "lavfi", "-i", f"aevalsrc={quad}:s=44100:c=quad:d=2",
         "-map", "0:v", "-map", "1:a", "-map", "2:a", *_X264, "-c:a", "aac",
         str(path))  # fmt: skip


FIXTURES: dict[str, tuple[str, Callable[[str, Path], None]]] = {
    "zero_bytes": ("empty.mp4", _zero_bytes),
    "text_as_mp4": ("notes.mp4", _text_named_mp4),
    "truncated": ("truncated.mp4", _truncated_mp4),
    "audio_only": ("audio_only.m4a", _audio_only),
    "still_image": ("still.png", _still_png),
    "huge_resolution": ("huge.mp4", _huge_resolution),
    "surround_51": ("surround.mp4", _surround_51),
    "undecodable_audio": ("undecodable_audio.mov", _undecodable_audio),
    "variable_frame_rate": ("vfr.mp4", _variable_frame_rate),
    "ten_bit_sdr": ("ten_bit_sdr.mp4", _ten_bit_sdr),
    "one_second": ("one_second.mp4", _one_second),
    "open_gop": ("open_gop.mp4", _open_gop),
    "cover_art": ("cover_art.mkv", _cover_art),
    "audio_only_cover_art": ("audio_only_cover.m4a", _audio_only_cover_art),
    "odd_audio_layouts": ("odd_layouts.mkv", _odd_audio_layouts),
}


def make_fixture(ffmpeg: str, name: str, out_dir: Path) -> Path:
    filename, make = FIXTURES[name]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / filename
    make(ffmpeg, path)
    return path


def _ffmpeg() -> str:
    """The FFmpeg the settings name (ffmpeg.path), else PATH's, else the wheel's: as the stack."""
    sys.path.insert(0, str(HERE.parent))
    from streamcore.binaries import find_ffmpeg
    from streamcore.settings import load_settings

    return str(find_ffmpeg(load_settings().ffmpeg.path).path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--only", choices=sorted(CLIPS), action="append", help="just this clip")
    parser.add_argument("--fixtures", action="store_true", help="also write the test fixtures")
    args = parser.parse_args()
    ffmpeg = _ffmpeg()
    for name in args.only or CLIPS:
        path = args.out / CLIPS[name].filename
        if not path.exists():
            generate(ffmpeg, CLIPS[name], args.out)
        print(path)
    if args.fixtures:
        for name in FIXTURES:
            print(make_fixture(ffmpeg, name, args.out / "fixtures"))


if __name__ == "__main__":
    main()
