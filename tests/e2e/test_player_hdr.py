"""An HDR upload in a browser that cannot show HDR (headless Chromium, an SDR display): the
player keeps to the SDR H.264 ladder, with hls.js and dash.js (issue 18).

The asset has both ladders (tests/integration/test_media_pipeline.py checks the HEVC Main10
one); a client that cannot show HDR must never be handed an HDR rendition.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_media.generate import hdr_clip
from streamcore.settings import Settings
from tests.e2e.conftest import PlayerAsset, player_asset_of, upload_ready
from tests.e2e.driver import PlayerPage

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def player_asset(
    stack: Settings, ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> PlayerAsset:
    """This module's clip, in place of conftest's: the browser and player fixtures use it."""
    source = hdr_clip(str(ffmpeg), tmp_path_factory.mktemp("hdr") / "hlg.mp4", "arib-std-b67")
    asset = upload_ready(stack, source)
    assert [r["dynamic_range"] for r in asset["renditions"]] == ["sdr", "hlg"]
    return player_asset_of(stack, asset, 2.0)


@pytest.mark.parametrize("engine", ["hls", "dash"])
def test_an_sdr_browser_plays_the_sdr_ladder_of_an_hdr_asset(
    player: PlayerPage, engine: str
) -> None:
    hevc = player.record_requests("/video/240p-hdr/")
    player.open(engine=engine)
    player.wait_playing()
    hdr_display = player.page.evaluate("matchMedia('(dynamic-range: high)').matches")
    assert hdr_display is False  # what this test is about: an SDR screen
    levels = player.value("s.levels")
    assert levels and {level["videoRange"] for level in levels} == {"SDR"}
    assert all(level["codecs"].startswith("avc1") for level in levels)
    assert hevc == [], "no HDR segment, playlist or init segment was fetched"
