"""Every FFmpeg command line StreamCore runs, built here and nowhere else.

Argument lists, never shell strings; one function per concern; each flag group says why.
References: https://ffmpeg.org/ffmpeg-formats.html#hls-2 (HLS muxer),
https://trac.ffmpeg.org/wiki/Encode/H.264 (libx264), `ffmpeg -h encoder=libx264`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from transcoder import layout
from transcoder.ladder import AudioPlan, FramePlan, LadderPlan, Rendition

# x264's B-pyramid reorders at most two frames (FFmpeg sets has_b_frames to 2 for it).
_MAX_REORDER_FRAMES = 2
# FFmpeg's AAC encoder starts with one frame of encoder delay.
_AAC_PRIMING_SAMPLES = 1024


def ladder_argv(
    ffmpeg: Path, source: Path, plan: LadderPlan, out_dir: Path, frames: FramePlan | None = None
) -> list[str]:
    """One process for the whole ladder: decode once, split, encode each rung and the audio.

    With `frames`, the same decode also feeds the poster and storyboard images: two more
    branches of the split, so the source is never decoded a second time for them.
    """
    argv = [str(ffmpeg), *_global_args(progress=True), "-i", str(source)]
    argv += ["-filter_complex", _ladder_filter_graph(plan, frames)]
    # The SDR H.264 ladder, then the HDR HEVC one: the same keyframes and segments.
    videos = [(f"[v{i}]", r, _x264_args) for i, r in enumerate(plan.renditions)]
    videos += [(f"[hv{i}]", r, _x265_args) for i, r in enumerate(plan.hdr_renditions)]
    for label, rendition, codec_args in videos:
        argv += ["-map", label]
        argv += codec_args(rendition, plan)
        argv += _keyframe_args(plan)
        argv += _clean_output_args()
        argv += _cmaf_track_args(layout.video_dir(out_dir, rendition.name), plan)
    for index, audio in enumerate(plan.audio):
        argv += ["-map", f"[a{index}]"]
        argv += _aac_args(audio)
        argv += _clean_output_args()
        argv += _cmaf_track_args(layout.audio_dir(out_dir, audio.name), plan)
    if frames is not None:
        # Frames as the branches pick them: never duplicated or dropped to a frame rate.
        # The poster is one PNG written in place (-update) rather than numbered: its
        # branch emits exactly one frame (see _poster_chain).
        argv += ["-map", "[poster]", "-fps_mode", "passthrough", "-update", "1"]
        argv += [str(frames.poster)]
        argv += ["-map", "[thumbs]", "-fps_mode", "passthrough"]
        argv += [str(frames.storyboard_dir / "thumb_%05d.png")]
    return argv


def subtitles_argv(ffmpeg: Path, source: Path, streams: list[tuple[int, Path]]) -> list[str]:
    """The source's text subtitle streams (0:s:<index>) as WebVTT files, one per stream.

    Its own process, demuxing only (no video or audio is decoded): a stream FFmpeg cannot
    convert fails this run alone, and the ladder publishes without it.
    """
    argv = [str(ffmpeg), *_global_args(progress=False), "-i", str(source)]
    for index, path in streams:
        # FFmpeg's webvtt encoder turns mov_text, SubRip and ASS text into WebVTT cues
        # (styling it cannot carry is dropped); cue times stay the source's.
        argv += ["-map", f"0:s:{index}", "-c:s", "webvtt", "-f", "webvtt", str(path)]
    return argv


def timeline_offset_us(plan: LadderPlan) -> int:
    """How far every track's timestamps are moved forward, in microseconds.

    x264 with B-frames emits its first decode timestamp up to two frames before zero, and
    the AAC encoder starts with one frame (1024 samples) of priming before zero. Each HLS
    output is a muxer of its own that would shift its own negative timestamps to zero, each
    by a different amount: video and audio would drift apart by tens of milliseconds. The
    same positive offset on every output keeps one shared timeline with nothing negative.
    """
    frames = _MAX_REORDER_FRAMES
    for audio in plan.audio:
        priming_s = Fraction(_AAC_PRIMING_SAMPLES, audio.sample_rate)
        frames = max(frames, math.ceil(priming_s * plan.fps))
    return math.ceil(frames / plan.fps * 1_000_000)


def decode_check_argv(ffmpeg: Path, manifest: Path | str, streams: str = "0") -> list[str]:
    """Decode every stream a playlist or MPD (a path or a URL) references: a client's check.

    Errors go to stderr; stdout gets one line per decoded frame, which is how the tests count
    what each stream decoded without ffprobe (the imageio-ffmpeg wheel ships none).
    """
    return [
        str(ffmpeg), "-hide_banner", "-nostdin",
        "-v", "error",
        "-i", str(manifest),
        # Every variant, not just the one FFmpeg would pick: with variants discarded, its
        # HLS demuxer's H.264 parser reports bogus NAL sizes on multi-variant fMP4.
        "-map", streams,
        # framecrc: per output stream its time base, then per decoded frame (raw video and
        # PCM, its default codecs) the timestamp, duration and a checksum. Present in 5.1.
        "-f", "framecrc", "-",
    ]  # fmt: skip


def _global_args(*, progress: bool) -> list[str]:
    # No banner or interactive keys; warnings and errors only on stderr: the runner keeps
    # its tail as the failure reason. -y: retries overwrite their own earlier output.
    args = ["-hide_banner", "-nostdin", "-y", "-loglevel", "warning"]
    if progress:
        # key=value progress blocks on stdout (out_time_us=..., progress=end), parsed by
        # the runner, instead of the human status line on stderr.
        args += ["-progress", "pipe:1", "-nostats"]
    return args


def _ladder_filter_graph(plan: LadderPlan, frames: FramePlan | None) -> str:
    count = len(plan.renditions)
    labels = [f"[s{index}]" for index in range(count)]
    if frames is not None:
        labels += ["[sp]", "[st]"]
    fps = f"{plan.fps.numerator}/{plan.fps.denominator}"
    # Decode once: deinterlace only frames flagged interlaced, force constant frame rate
    # (start_time=0 pads a late first frame so video and audio both start at 0), then one
    # copy per rung. Keyframe times are then exact multiples of the frame duration.
    head = f"[0:v:{plan.video_index}]bwdif=deint=interlaced,fps=fps={fps}:start_time=0,"
    split = f"split={len(labels)}" + "".join(labels)
    if plan.hdr_renditions:
        # The HDR ladder branches off before the conversion to SDR, in the source's own
        # 10-bit HDR; the images come from the SDR branch, as most screens show them.
        hdr_labels = "".join(f"[h{index}]" for index in range(len(plan.hdr_renditions)))
        chains = [
            f"{head}split=2[sdr][hdr]",
            f"[sdr]{_sdr_chain(plan)}{split}",
            f"[hdr]split={len(plan.hdr_renditions)}{hdr_labels}",
        ]
        for index, rendition in enumerate(plan.hdr_renditions):
            # Scaled in the HDR signal's own domain (PQ or HLG), as HDR ladders are.
            chains.append(
                f"[h{index}]scale={rendition.width}:{rendition.height},setsar=1,"
                f"format=yuv420p10le[hv{index}]"
            )
    else:
        chains = [f"{head}{_sdr_chain(plan)}{split}"]
    for index, rendition in enumerate(plan.renditions):
        # Square pixels at the planned size; 8-bit 4:2:0 is what Main/High profile decode.
        chains.append(
            f"[s{index}]scale={rendition.width}:{rendition.height},setsar=1,"
            f"format=yuv420p[v{index}]"
        )
    chains += _audio_chains(plan)
    if frames is not None:
        chains += [_poster_chain(frames), _storyboard_chain(frames)]
    return ";".join(chains)


def _audio_chains(plan: LadderPlan) -> list[str]:
    """One chain per audio rendition, each reading its source track (FFmpeg decodes a track
    once and hands its frames to every chain that names it).

    Gaps are filled and a late start padded with silence, so each rendition stays in sync
    with the video; its channel count and rate come from its output (_aac_args), which the
    chain's own resampler meets. Not one chain split in two: asplit's outputs share one
    format, so FFmpeg would downmix to stereo before the split and upmix that to "5.1".
    """
    return [
        f"[0:a:{audio.source_index}]aresample=async=1:first_pts=0[a{index}]"
        for index, audio in enumerate(plan.audio)
    ]


def _sdr_chain(plan: LadderPlan) -> str:
    """The filters that bring an HDR or wide-gamut source to SDR BT.709, ending in a comma;
    empty for a BT.709 or BT.601 source, whose tags pass through to every output unchanged.

    Once, before the split, at most at the top rung's size (the float stages cost per pixel):
    to linear light, to BT.709 primaries (in linear light, where gamut mapping is right),
    then for HDR the Hable curve (shoulder and toe, no desaturation: what FFmpeg's
    documentation and mpv use) from a 100-nit SDR reference white, and back to BT.709
    transfer and matrix at limited range in 8-bit 4:2:0.
    """
    color = plan.color
    if not color.needs_sdr_conversion:
        return ""
    top = max(plan.renditions, key=lambda rendition: rendition.width * rendition.height)
    to_linear = f"zscale=w={top.width}:h={top.height}:{color.zscale_input()}:t=linear"
    if color.is_hdr:
        to_linear += ":npl=100"
        to_bt709 = "zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv"
    else:
        to_bt709 = "zscale=p=bt709:t=bt709:m=bt709:r=tv"
    # The frames say BT.709 outright (setparams): FFmpeg 7 and later tag each encoder's
    # stream from its frames, so the tags the source's frames carried never reach H.264.
    tag = "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
    return f"{to_linear},format=gbrpf32le,{to_bt709},format=yuv420p,{tag},"


def _poster_chain(frames: FramePlan) -> str:
    candidates_per_s = 2
    window_frames = max(1, round(frames.poster_window_s * candidates_per_s))
    width, height = frames.poster_size
    # Skip the black or fading first seconds many videos start with; then two candidates a
    # second, at most one window of them, already at poster size (the thumbnail filter keeps
    # its whole window in memory); then the frame closest to the window's average histogram:
    # representative, rarely a blurred transition. The window is cut by frame count, so
    # thumbnail emits exactly one frame (at the window's end or at the clip's, if sooner),
    # and the branch ends there while the ladder goes on.
    return (
        f"[sp]trim=start={frames.poster_start_s:.3f},fps={candidates_per_s},"
        f"trim=end_frame={window_frames},scale={width}:{height},setsar=1,"
        f"thumbnail=n={window_frames}[poster]"
    )


def _storyboard_chain(frames: FramePlan) -> str:
    width, height = frames.thumbnail_size
    # The first frame at or after each multiple of the interval, counted from t=0: thumbnail
    # k is at (k - 1) * interval_s, and a clip shorter than the interval still gets one (the
    # fps filter rounds such a clip to no frame at all).
    interval = f"{frames.interval_s:.6g}"
    return (
        f"[st]select='eq(n,0)+gt(floor(t/{interval}),floor(prev_t/{interval}))',"
        f"scale={width}:{height},setsar=1[thumbs]"
    )


def _x264_args(rendition: Rendition, plan: LadderPlan) -> list[str]:
    return [
        "-c:v", "libx264",
        "-preset", plan.preset,
        # Profile from the ladder, level computed from size x fps x maxrate: players check
        # both before downloading a segment.
        "-profile:v", rendition.profile,
        "-level:v", rendition.level,
        # Capped CRF: constant quality, with the VBV capping the peaks a player must absorb.
        "-crf", str(rendition.crf),
        "-maxrate", f"{rendition.maxrate_kbps}k",
        "-bufsize", f"{rendition.bufsize_kbps}k",
        *_sdr_tags(plan),
    ]  # fmt: skip


def _x265_args(rendition: Rendition, plan: LadderPlan) -> list[str]:
    """HEVC Main10 in the source's HDR (HDR10/PQ or HLG), tagged so, as Apple's HLS
    authoring spec and DASH-IF ask: hvc1 (parameter sets in hvcC), BT.2020, 10-bit."""
    tags = plan.color.hdr_tags()
    gop = plan.gop_frames
    params = ":".join([
        "log-level=error",
        # Keyframes only where forced (the same instants as the H.264 ladder's), closed GOPs:
        # segments of both ladders start at the same times and decode on their own.
        f"keyint={gop}", f"min-keyint={gop}", "scenecut=0", "open-gop=0",
        # The VUI the decoder and display read: the transfer is what makes it HDR.
        f"colorprim={tags['primaries']}", f"transfer={tags['transfer']}",
        f"colormatrix={tags['matrix']}", "range=limited",
    ])  # fmt: skip
    return [
        "-c:v", "libx265",
        "-preset", plan.hdr_preset,
        "-profile:v", "main10",
        "-pix_fmt", "yuv420p10le",
        # hvc1, not hev1: parameter sets in the sample entry, which Apple devices require.
        "-tag:v", "hvc1",
        "-crf", str(rendition.crf),
        "-maxrate", f"{rendition.maxrate_kbps}k",
        "-bufsize", f"{rendition.bufsize_kbps}k",
        "-x265-params", params,
        # And the container's colr box (FFmpeg 5.1 takes these, later releases the frames').
        "-color_primaries", tags["primaries"], "-color_trc", tags["transfer"],
        "-colorspace", tags["matrix"], "-color_range", "tv",
    ]  # fmt: skip


def _sdr_tags(plan: LadderPlan) -> list[str]:
    # FFmpeg hands the encoder the colour tags of the first decoded frame: after a
    # conversion they are said outright, so no HDR tag ever reaches an 8-bit H.264 stream.
    if not plan.color.needs_sdr_conversion:
        return []
    return [
        "-color_primaries", "bt709", "-color_trc", "bt709",
        "-colorspace", "bt709", "-color_range", "tv",
    ]  # fmt: skip


def _keyframe_args(plan: LadderPlan) -> list[str]:
    return [
        # Keyframes at the same instants in every rendition: forced by time, not by frame
        # count, as IDR frames, and never inserted on scene cuts; closed GOPs so every
        # segment decodes on its own. -g caps a GOP at gop_seconds worth of frames.
        "-force_key_frames", f"expr:gte(t,n_forced*{plan.gop_seconds:g})",
        "-forced-idr", "1",
        "-sc_threshold", "0",
        "-flags", "+cgop",
        "-g", str(plan.gop_frames),
    ]  # fmt: skip


def _aac_args(audio: AudioPlan) -> list[str]:
    return [
        # AAC-LC, the one audio codec every HLS and DASH player decodes. -ac downmixes to
        # stereo (or 7.1 to 5.1) with FFmpeg's standard matrix, and upmixes mono to both
        # channels; -ar fixes the rate for every source (96 kHz, 44.1 kHz...).
        "-c:a", "aac",
        "-profile:a", "aac_low",
        "-b:a", f"{audio.bitrate_kbps}k",
        "-ar", str(audio.sample_rate),
        "-ac", str(audio.channels),
    ]  # fmt: skip


def _clean_output_args() -> list[str]:
    # Source metadata (titles, GPS positions from phones, chapters) is not published.
    return ["-map_metadata", "-1", "-map_chapters", "-1"]


def _cmaf_track_args(track_dir: Path, plan: LadderPlan) -> list[str]:
    return [
        # See timeline_offset_us(): one timeline shared by every track, nothing negative.
        "-output_ts_offset", f"{timeline_offset_us(plan)}us",
        # FFmpeg's HLS muxer in fMP4 mode writes CMAF-style tracks: init.mp4 plus one
        # moof+mdat fragment per segment, cut at the first keyframe at or after each
        # multiple of hls_time (cumulative, so there is no drift), numbered from 1.
        "-f", "hls",
        "-hls_segment_type", "fmp4",
        "-hls_time", f"{plan.segment_seconds:g}",
        "-hls_playlist_type", "vod",
        "-hls_list_size", "0",
        "-start_number", str(layout.FIRST_SEGMENT_NUMBER),
        "-hls_fmp4_init_filename", layout.INIT_NAME,
        "-hls_segment_filename", str(track_dir / layout.SEGMENT_PATTERN),
        # For the MP4 writer under the HLS muxer: no edit lists (players honour them
        # unevenly), so timestamps must be kept as they are (make_non_negative leaves
        # positive ones alone) and written as they are: frag_discont makes the first
        # tfdt the real decode time instead of zero. Composition offsets stay positive
        # (trun v0): FFmpeg's DASH demuxer mis-times v1 negative offsets.
        "-hls_segment_options",
        "movflags=+frag_discont:use_editlist=0:avoid_negative_ts=make_non_negative",
        str(track_dir / layout.SCRATCH_PLAYLIST),
    ]  # fmt: skip
