"""Manifests cut to a token's renditions: still valid (parsed with `m3u8` and ElementTree), the
shared audio kept, and refused when nothing playable would be left."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import m3u8
import pytest

from origin.renditions import filter_master, filter_mpd
from streamcore.signing import RenditionNotAllowed
from tests.integration.published import MASTER, MPD
from tests.ladder_manifests import DASH, master, mpd


def test_the_master_keeps_the_allowed_variants_and_the_audio() -> None:
    cut = m3u8.loads(filter_master(master(), frozenset({"360p", "720p"})))
    assert [p.uri for p in cut.playlists] == ["video/360p/index.m3u8", "video/720p/index.m3u8"]
    assert [p.uri for p in cut.iframe_playlists] == [
        "video/360p/iframes.m3u8",
        "video/720p/iframes.m3u8",
    ]
    assert [m.uri for m in cut.media] == ["audio/aac/index.m3u8"]
    assert cut.version == 7 and cut.is_independent_segments


def test_a_master_without_an_allowed_variant_is_refused() -> None:
    with pytest.raises(RenditionNotAllowed):
        filter_master(MASTER, frozenset({"1080p"}))
    with pytest.raises(RenditionNotAllowed):
        filter_master(master(), frozenset())


def test_the_mpd_keeps_the_allowed_representations_and_recomputes_the_maxima() -> None:
    root = ET.fromstring(filter_mpd(mpd(), frozenset({"360p"})))  # noqa: S314
    video, audio = root.iter(f"{DASH}AdaptationSet")
    assert [r.get("id") for r in video.iter(f"{DASH}Representation")] == ["360p"]
    assert (video.get("maxWidth"), video.get("maxHeight"), video.get("maxFrameRate")) == (
        "640",
        "360",
        "25",
    )
    assert [r.get("id") for r in audio.iter(f"{DASH}Representation")] == ["aac"]


def test_representation_id_templates_are_read_per_representation() -> None:
    root = ET.fromstring(filter_mpd(MPD, frozenset({"360p"})))  # noqa: S314
    assert [r.get("id") for r in root.iter(f"{DASH}Representation")] == ["360p"]
    with pytest.raises(RenditionNotAllowed):
        filter_mpd(MPD, frozenset({"720p"}))
