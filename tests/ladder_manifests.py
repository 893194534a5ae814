"""A three-rung ladder's manifests (360p, 720p, 1080p, shared audio), shaped as the packager
writes them (docs/pipeline.md): for tests of what the origin cuts to a token's renditions."""

from __future__ import annotations

from typing import Any

DASH = "{urn:mpeg:dash:schema:mpd:2011}"
LADDER: list[dict[str, Any]] = [
    {"name": "360p", "width": 640, "height": 360, "bandwidth": 900_000},
    {"name": "720p", "width": 1280, "height": 720, "bandwidth": 3_000_000},
    {"name": "1080p", "width": 1920, "height": 1080, "bandwidth": 6_000_000},
]


def master() -> str:
    """A master as the packager writes it (docs/pipeline.md): audio, variants, I-frames."""
    lines = [
        "#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS",
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,'
        'CHANNELS="2",URI="audio/aac/index.m3u8"',
    ]  # fmt: skip
    for r in LADDER:
        lines += [
            f"#EXT-X-STREAM-INF:BANDWIDTH={r['bandwidth']},RESOLUTION={r['width']}x{r['height']},"
            f'CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=25,AUDIO="aac",CLOSED-CAPTIONS=NONE',
            f"video/{r['name']}/index.m3u8",
        ]
    for r in LADDER:
        lines.append(
            f"#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={r['bandwidth'] // 10},"
            f'RESOLUTION={r["width"]}x{r["height"]},CODECS="avc1.64001f",'
            f'URI="video/{r["name"]}/iframes.m3u8"'
        )
    return "\n".join(lines) + "\n"


def mpd() -> str:
    representations = "".join(
        f'<Representation id="{r["name"]}" bandwidth="{r["bandwidth"]}" width="{r["width"]}" '
        f'height="{r["height"]}" sar="1:1" codecs="avc1.64001f" frameRate="25">'
        f'<SegmentTemplate timescale="12800" initialization="video/{r["name"]}/init.mp4" '
        f'media="video/{r["name"]}/seg_$Number%05d$.m4s" startNumber="1">'
        '<SegmentTimeline><S t="0" d="51200"/></SegmentTimeline></SegmentTemplate>'
        "</Representation>"
        for r in LADDER
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"'
        ' profiles="urn:mpeg:dash:profile:isoff-live:2011" type="static"'
        ' mediaPresentationDuration="PT4S" minBufferTime="PT4S">'
        '<Period id="0" start="PT0S">'
        '<AdaptationSet id="0" contentType="video" mimeType="video/mp4" segmentAlignment="true"'
        f' startWithSAP="1" maxWidth="1920" maxHeight="1080" maxFrameRate="25">{representations}'
        "</AdaptationSet>"
        '<AdaptationSet id="1" contentType="audio" mimeType="audio/mp4" lang="und">'
        '<Representation id="aac" bandwidth="128000" codecs="mp4a.40.2" audioSamplingRate="48000">'
        '<SegmentTemplate timescale="48000" initialization="audio/aac/init.mp4" '
        'media="audio/aac/seg_$Number%05d$.m4s" startNumber="1">'
        '<SegmentTimeline><S t="0" d="192000"/></SegmentTimeline></SegmentTemplate>'
        "</Representation></AdaptationSet></Period></MPD>\n"
    )


MEDIA = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.000,
seg_00001.m4s
#EXT-X-ENDLIST
"""
