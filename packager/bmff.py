"""A small ISO-BMFF (MP4) reader: just enough to describe CMAF tracks in manifests.

From an init segment: track kind, timescale, size or channels, and the RFC 6381 codec
string (``avc1.64001f`` from avcC, ``mp4a.40.2`` from esds). From a media segment: its
start (tfdt), duration (trun sample durations, else tfhd/trex defaults), size, whether it
starts with a sync sample, and each keyframe's byte range (moof start to the end of the
keyframe's sample) for I-frame playlists. Box layouts: ISO/IEC 14496-12 and 14496-15.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packager.boxes import BmffError, Box, iter_boxes, require

__all__ = ["BmffError", "InitInfo", "KeyFrame", "SegmentInfo", "read_init", "read_segment"]

# tfhd flags (14496-12 8.8.7.1)
_TFHD_BASE_DATA_OFFSET = 0x01
_TFHD_SAMPLE_DESCRIPTION_INDEX = 0x02
_TFHD_DEFAULT_DURATION = 0x08
_TFHD_DEFAULT_SIZE = 0x10
_TFHD_DEFAULT_FLAGS = 0x20
# trun flags (8.8.8.1)
_TRUN_DATA_OFFSET = 0x01
_TRUN_FIRST_SAMPLE_FLAGS = 0x04
_TRUN_DURATION = 0x100
_TRUN_SIZE = 0x200
_TRUN_FLAGS = 0x400
_TRUN_CTO = 0x800
# The optional per-sample fields of a trun, in the order they are stored.
_TRUN_SAMPLE_FIELDS = (
    (_TRUN_DURATION, "duration"),
    (_TRUN_SIZE, "size"),
    (_TRUN_FLAGS, "flags"),
    (_TRUN_CTO, "cto"),
)
# sample_flags: sample_is_non_sync_sample (8.8.3.1)
_NON_SYNC = 0x00010000


@dataclass(frozen=True)
class _SampleEntry:
    codec: str
    width: int | None = None
    height: int | None = None
    channels: int | None = None
    sample_rate: int | None = None


@dataclass(frozen=True)
class InitInfo:
    kind: Literal["video", "audio"]
    track_id: int
    timescale: int
    codec: str
    width: int | None
    height: int | None
    channels: int | None
    sample_rate: int | None
    default_duration: int  # from trex; used when neither trun nor tfhd gives durations
    default_size: int
    default_flags: int


@dataclass(frozen=True)
class KeyFrame:
    time: int  # presentation time, in timescale units
    offset: int  # the enclosing moof's first byte
    length: int  # up to the end of the keyframe's sample data
    starts_fragment: bool  # the first sample of its fragment: moof + sample is compact


@dataclass(frozen=True)
class SegmentInfo:
    path: Path
    start: int  # tfdt of the first fragment (decode time), in timescale units
    presentation_start: int  # earliest presentation time of any sample
    duration: int
    size: int
    sample_count: int
    starts_with_sync: bool
    keyframes: tuple[KeyFrame, ...]


def read_init(path: Path) -> InitInfo:
    """Describe the (single) track of an fMP4 init segment."""
    data = path.read_bytes()
    trak = require(data, "moov/trak")
    handler = data[require(data, "mdia/hdlr", trak.body, trak.end).body + 8 :][:4]
    kinds: dict[bytes, Literal["video", "audio"]] = {b"vide": "video", b"soun": "audio"}
    if handler not in kinds:
        raise BmffError(f"{path.name}: unsupported handler {handler!r}")
    mdhd = require(data, "mdia/mdhd", trak.body, trak.end)
    timescale_at = mdhd.body + (20 if data[mdhd.body] == 1 else 12)
    (timescale,) = struct.unpack_from(">I", data, timescale_at)
    tkhd = require(data, "tkhd", trak.body, trak.end)
    (track_id,) = struct.unpack_from(">I", data, tkhd.body + (20 if data[tkhd.body] == 1 else 12))
    stsd = require(data, "mdia/minf/stbl/stsd", trak.body, trak.end)
    entry = next(iter_boxes(data, stsd.body + 8, stsd.end))
    trex = require(data, "moov/mvex/trex")
    _, duration, size, flags = struct.unpack_from(">IIII", data, trex.body + 8)
    sample = _video_entry(data, entry) if kinds[handler] == "video" else _audio_entry(data, entry)
    return InitInfo(
        kind=kinds[handler],
        track_id=track_id,
        timescale=timescale,
        default_duration=duration,
        default_size=size,
        default_flags=flags,
        codec=sample.codec,
        width=sample.width,
        height=sample.height,
        channels=sample.channels,
        sample_rate=sample.sample_rate,
    )


def _video_entry(data: bytes, entry: Box) -> _SampleEntry:
    if entry.type not in ("avc1", "avc3", "hvc1", "hev1"):
        raise BmffError(f"unsupported video sample entry {entry.type}")
    width, height = struct.unpack_from(">HH", data, entry.body + 24)
    # VisualSampleEntry fields take 78 bytes; its child boxes (avcC or hvcC, pasp...) follow.
    if entry.type in ("hvc1", "hev1"):
        hvcc = require(data, "hvcC", entry.body + 78, entry.end)
        return _SampleEntry(codec=_hevc_codec(entry.type, data[hvcc.body :]), width=width,
                            height=height)  # fmt: skip
    avcc = require(data, "avcC", entry.body + 78, entry.end)
    profile, compatibility, level = data[avcc.body + 1 : avcc.body + 4]
    return _SampleEntry(
        codec=f"{entry.type}.{profile:02x}{compatibility:02x}{level:02x}",
        width=width,
        height=height,
    )


def _hevc_codec(sample_entry: str, hvcc: bytes) -> str:
    """RFC 6381 / ISO/IEC 14496-15 Annex E: ``hvc1.2.4.L93.B0`` from the hvcC's profile,
    tier, level and constraint flags (Main10, general tier, level 3.1, progressive)."""
    if len(hvcc) < 13:
        raise BmffError("hvcC too short")
    profile_space, tier, profile_idc = hvcc[1] >> 6, (hvcc[1] >> 5) & 1, hvcc[1] & 0x1F
    (compatibility,) = struct.unpack_from(">I", hvcc, 2)
    constraints = list(hvcc[6:12])
    level = hvcc[12]
    # The compatibility flags are written bit-reversed, in hex without leading zeros.
    reversed_flags = int(f"{compatibility:032b}"[::-1], 2)
    while constraints and constraints[-1] == 0:  # trailing zero bytes are left out
        constraints.pop()
    parts = [
        sample_entry,
        f"{'' if profile_space == 0 else 'ABC'[profile_space - 1]}{profile_idc}",
        f"{reversed_flags:x}",
        f"{'H' if tier else 'L'}{level}",
        *(f"{byte:x}".upper() for byte in constraints),
    ]
    return ".".join(parts)


def _audio_entry(data: bytes, entry: Box) -> _SampleEntry:
    if entry.type != "mp4a":
        raise BmffError(f"unsupported audio sample entry {entry.type}")
    channels, _, _, _, rate = struct.unpack_from(">HHHHI", data, entry.body + 16)
    # AudioSampleEntry fields take 28 bytes; esds follows.
    esds = require(data, "esds", entry.body + 28, entry.end)
    codec, configured = _mp4a_codec(data[esds.body + 4 : esds.end])
    return _SampleEntry(
        codec=codec,
        # The sample entry's channelcount is 2 for any AAC (ISO/IEC 14496-12 leaves it to
        # the decoder config): the AudioSpecificConfig says 6 for 5.1.
        channels=configured or channels,
        sample_rate=rate >> 16,
    )


# AudioSpecificConfig channelConfiguration (ISO/IEC 14496-3 1.6.3.5) to a channel count.
_AAC_CHANNELS = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 8}


def _mp4a_codec(esds: bytes) -> tuple[str, int | None]:
    """``mp4a.<objectTypeIndication hex>.<audioObjectType>`` (RFC 6381 section 3.3), and the
    channel count the AudioSpecificConfig gives (None when it leaves it to a program config).
    """
    object_type, asc = None, b""
    offset = 0
    while offset < len(esds):
        tag = esds[offset]
        length, offset = _descriptor_length(esds, offset + 1)
        if tag == 0x03:  # ES_Descriptor: ES_ID, flags, optional fields, then children
            flags = esds[offset + 2]
            offset += 3 + (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
            if flags & 0x40:
                offset += 1 + esds[offset]
        elif tag == 0x04:  # DecoderConfigDescriptor: objectTypeIndication first
            object_type = esds[offset]
            offset += 13
        else:
            if tag == 0x05:  # DecoderSpecificInfo: the AudioSpecificConfig
                asc = esds[offset : offset + length]
            offset += length
    if object_type is None or not asc:
        raise BmffError("esds without a decoder config")
    bits = int.from_bytes(asc[:8].ljust(8, b"\0"), "big")
    position = 64

    def take(count: int) -> int:
        nonlocal position
        position -= count
        return (bits >> position) & ((1 << count) - 1)

    audio_object_type = take(5)
    if audio_object_type == 31:  # escape: 6 more bits
        audio_object_type = 32 + take(6)
    if take(4) == 0x0F:  # samplingFrequencyIndex 15: the frequency itself follows
        take(24)
    channels = _AAC_CHANNELS.get(take(4))
    return f"mp4a.{object_type:x}.{audio_object_type}", channels


def _descriptor_length(data: bytes, offset: int) -> tuple[int, int]:
    length = 0
    for _ in range(4):  # 7 bits per byte, high bit set while more bytes follow
        byte = data[offset]
        offset += 1
        length = (length << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return length, offset


@dataclass(frozen=True)
class _Sample:
    decode_time: int
    duration: int
    offset: int
    size: int
    flags: int
    cto: int


def read_segment(path: Path, init: InitInfo) -> SegmentInfo:
    """Describe one media segment (one or more moof+mdat fragments) of `init`'s track."""
    data = path.read_bytes()
    starts: list[int] = []
    samples: list[_Sample] = []
    keyframes: list[KeyFrame] = []
    for moof in (box for box in iter_boxes(data) if box.type == "moof"):
        traf = require(data, "traf", moof.body, moof.end)
        fragment = _fragment_samples(data, moof, traf, init)
        if not fragment:
            continue
        starts.append(fragment[0].decode_time)
        for index, sample in enumerate(fragment):
            if sample.offset + sample.size > len(data):
                raise BmffError(f"{path.name}: sample data beyond the end of the file")
            if not sample.flags & _NON_SYNC:
                keyframes.append(
                    KeyFrame(
                        time=sample.decode_time + sample.cto,
                        offset=moof.offset,
                        length=sample.offset + sample.size - moof.offset,
                        starts_fragment=index == 0,
                    )
                )
        samples += fragment
    if not samples:
        raise BmffError(f"{path.name}: no samples")
    return SegmentInfo(
        path=path,
        start=starts[0],
        presentation_start=min(sample.decode_time + sample.cto for sample in samples),
        duration=sum(sample.duration for sample in samples),
        size=len(data),
        sample_count=len(samples),
        starts_with_sync=not samples[0].flags & _NON_SYNC,
        keyframes=tuple(keyframes),
    )


def _fragment_samples(data: bytes, moof: Box, traf: Box, init: InitInfo) -> list[_Sample]:
    tfhd = require(data, "tfhd", traf.body, traf.end)
    flags = int.from_bytes(data[tfhd.body + 1 : tfhd.body + 4], "big")
    cursor = tfhd.body + 8  # version/flags, track_ID
    base = moof.offset  # default-base-is-moof, and the default for a file's only track
    if flags & _TFHD_BASE_DATA_OFFSET:
        (base,) = struct.unpack_from(">Q", data, cursor)
        cursor += 8
    if flags & _TFHD_SAMPLE_DESCRIPTION_INDEX:
        cursor += 4
    defaults = {"duration": init.default_duration, "size": init.default_size}
    default_flags = init.default_flags
    for bit, name in ((_TFHD_DEFAULT_DURATION, "duration"), (_TFHD_DEFAULT_SIZE, "size")):
        if flags & bit:
            (defaults[name],) = struct.unpack_from(">I", data, cursor)
            cursor += 4
    if flags & _TFHD_DEFAULT_FLAGS:
        (default_flags,) = struct.unpack_from(">I", data, cursor)
    tfdt = require(data, "tfdt", traf.body, traf.end)
    wide = data[tfdt.body] == 1
    (time,) = struct.unpack_from(">Q" if wide else ">I", data, tfdt.body + 4)
    samples: list[_Sample] = []
    position = base
    for trun in (box for box in iter_boxes(data, traf.body, traf.end) if box.type == "trun"):
        run, position, time = _trun(data, trun, base, position, time, defaults, default_flags)
        samples += run
    return samples


def _trun(
    data: bytes,
    trun: Box,
    base: int,
    position: int,
    time: int,
    defaults: dict[str, int],
    default_flags: int,
) -> tuple[list[_Sample], int, int]:
    version = data[trun.body]
    flags = int.from_bytes(data[trun.body + 1 : trun.body + 4], "big")
    (count,) = struct.unpack_from(">I", data, trun.body + 4)
    cursor = trun.body + 8
    if flags & _TRUN_DATA_OFFSET:
        (offset,) = struct.unpack_from(">i", data, cursor)
        position = base + offset
        cursor += 4
    first_flags = None
    if flags & _TRUN_FIRST_SAMPLE_FLAGS:
        (first_flags,) = struct.unpack_from(">I", data, cursor)
        cursor += 4
    samples = []
    for index in range(count):
        values = {"duration": defaults["duration"], "size": defaults["size"], "cto": 0}
        values["flags"] = first_flags if index == 0 and first_flags is not None else default_flags
        for bit, name in _TRUN_SAMPLE_FIELDS:
            if flags & bit:
                # Composition offsets are signed in version 1 (negative offsets allowed).
                signed = name == "cto" and version == 1
                (values[name],) = struct.unpack_from(">i" if signed else ">I", data, cursor)
                cursor += 4
        samples.append(
            _Sample(
                time, values["duration"], position, values["size"], values["flags"], values["cto"]
            )
        )
        time += values["duration"]
        position += values["size"]
    return samples, position, time
