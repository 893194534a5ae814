"""HLS content steering: one pathway per source in the viewer's master playlist."""

from __future__ import annotations

import re
import uuid

import m3u8

from origin import steering
from streamcore.settings import Settings

# As packager/hls.py writes it: audio group, two variants, their I-frame playlists.
MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:URI="audio/aac/index.m3u8",TYPE=AUDIO,GROUP-ID="aac",NAME="Audio",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2"
#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aac",CLOSED-CAPTIONS=NONE,FRAME-RATE=25.000
video/360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2400000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2",AUDIO="aac",CLOSED-CAPTIONS=NONE,FRAME-RATE=25.000
video/720p/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=200000,AVERAGE-BANDWIDTH=100000,RESOLUTION=640x360,CODECS="avc1.4d401e",URI="video/360p/iframes.m3u8"
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=500000,AVERAGE-BANDWIDTH=300000,RESOLUTION=1280x720,CODECS="avc1.4d401f",URI="video/720p/iframes.m3u8"
"""
TOKEN = "k1.TOKEN"  # a placeholder, never checked here
FOLDER = "/assets/0b7a0f5e-3c1e-4a57-9d59-2f8a4a7c1d11/v3/"
STEERING = "http://api.example/v1/playback/0b7a0f5e-3c1e-4a57-9d59-2f8a4a7c1d11/steering/hls"


def test_every_source_gets_a_pathway_with_absolute_uris_carrying_the_token(
    settings: Settings,
) -> None:
    text = steering.add_hls_pathways(MASTER, settings, TOKEN, FOLDER, STEERING)
    master = m3u8.loads(text)
    assert master.content_steering.uri == STEERING
    assert master.content_steering.pathway_id == "edge"  # the primary plays first
    bases = {
        "edge": "http://127.0.0.1:18082",
        "origin": "http://127.0.0.1:18000",
    }  # through the gateway
    for pathway, base in bases.items():
        prefix = f"{base}/t/{TOKEN}{FOLDER}"
        variants = [p for p in master.playlists if p.stream_info.pathway_id == pathway]
        assert [v.uri for v in variants] == [
            f"{prefix}video/360p/index.m3u8",
            f"{prefix}video/720p/index.m3u8",
        ]
        assert [v.stream_info.stable_variant_id for v in variants] == [
            "video.360p.index",
            "video.720p.index",
        ]
        # Each pathway's variants name an audio group of that pathway alone.
        groups = {v.stream_info.audio for v in variants}
        assert groups == {f"aac-{pathway}"}
        audio = [m for m in master.media if m.group_id == f"aac-{pathway}"]
        assert [m.uri for m in audio] == [f"{prefix}audio/aac/index.m3u8"]
        assert audio[0].stable_rendition_id == "audio.aac.index"
        iframes = [
            line for line in text.splitlines()
            if line.startswith("#EXT-X-I-FRAME-STREAM-INF") and f'URI="{prefix}' in line
        ]  # fmt: skip
        assert len(iframes) == 2
        assert all(f'PATHWAY-ID="{pathway}"' in line for line in iframes)
        assert 'STABLE-VARIANT-ID="video.720p.iframes"' in iframes[1]
    assert len(master.playlists) == 4 and len(master.iframe_playlists) == 4


def test_the_header_and_other_tags_appear_once(settings: Settings) -> None:
    source = MASTER.replace(
        "#EXT-X-I-FRAME",
        '#EXT-X-SESSION-DATA:DATA-ID="com.example.title",VALUE="x"\n#EXT-X-I-FRAME',
        1,
    )
    lines = steering.add_hls_pathways(source, settings, TOKEN, FOLDER, STEERING).splitlines()
    for tag in ("#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"):
        assert lines.count(tag) == 1
    assert sum(line.startswith("#EXT-X-SESSION-DATA") for line in lines) == 1
    assert sum(line.startswith("#EXT-X-CONTENT-STEERING") for line in lines) == 1
    # Each variant's URI line follows its STREAM-INF.
    for i, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF"):
            assert lines[i + 1].startswith("http://")


def test_query_token_masters_keep_their_uris_and_the_default_pathway() -> None:
    text = steering.add_hls_steering(MASTER, STEERING)
    assert (
        text.replace(f'#EXT-X-CONTENT-STEERING:SERVER-URI="{STEERING}",PATHWAY-ID="."\n', "")
        == MASTER
    )


def test_a_client_without_steering_meets_the_primary_pathway_first(settings: Settings) -> None:
    """FFmpeg, VLC or an older Safari read every pathway as more variants: the primary's come
    first, in the packaged order, so a client starting on the first listed starts there."""
    text = steering.add_hls_pathways(MASTER, settings, TOKEN, FOLDER, STEERING)
    master = m3u8.loads(text)
    assert [p.stream_info.pathway_id for p in master.playlists] == [
        "edge", "edge", "origin", "origin"
    ]  # fmt: skip
    edge = f"http://127.0.0.1:18082/t/{TOKEN}{FOLDER}"
    assert master.playlists[0].uri == f"{edge}video/360p/index.m3u8"
    # Every URI of the primary (variants, audio, I-frames) before any of another pathway.
    uris = re.findall(r'URI="([^"]*)"|^(http\S+)$', text, flags=re.MULTILINE)
    hosts = [(attribute or line).split("/t/", 1)[0] for attribute, line in uris]
    edge_last = max(i for i, host in enumerate(hosts) if host.endswith(":18082"))
    origin_first = min(i for i, host in enumerate(hosts) if host.endswith(":18000"))
    assert edge_last < origin_first


def test_the_steering_manifest_is_the_streaming_services_through_the_gateway(
    settings: Settings,
) -> None:
    asset_id = uuid.UUID("0b7a0f5e-3c1e-4a57-9d59-2f8a4a7c1d11")
    assert steering.steering_uri(settings, asset_id, "dash") == (
        f"{settings.gateway.entry_url}/v1/playback/{asset_id}/steering/dash"
    )
