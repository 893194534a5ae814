"""An HDR upload in a browser that cannot show HDR (headless Chromium, an SDR display): the
player keeps to the SDR H.264 ladder, with hls.js and dash.js (issue 18).

The asset has both ladders (tests/integration/test_media_pipeline.py checks the HEVC Main10
one); a client that cannot show HDR must never be handed an HDR rendition.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sample_media.generate import hdr_clip
from streamcore.settings import Settings
from tests.assets_http import wait_final
from tests.e2e.conftest import PlayerAsset
from tests.e2e.driver import PlayerPage

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def player_asset(
    stack: Settings, ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> PlayerAsset:
    """This module's clip, in place of conftest's: the browser and player fixtures use it."""
    source = hdr_clip(str(ffmpeg), tmp_path_factory.mktemp("hdr") / "hlg.mp4", "arib-std-b67")
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        response = api.post(
            "/v1/assets",
            content=source.read_bytes(),
            headers={"Content-Type": "video/mp4", "X-Filename": quote(source.name)},
        )
        assert response.status_code == 202, response.text
        asset = wait_final(api, response.json()["id"])
    assert asset["status"] == "ready", asset["error"]
    assert [r["dynamic_range"] for r in asset["renditions"]] == ["sdr", "hlg"]
    return PlayerAsset(
        id=asset["id"], player_url=f"{stack.gateway.entry_url}/player/", duration_s=2.0
    )


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
