"""The audio-language menu in Chromium, with hls.js and dash.js (issue 18).

A studio-style clip (English stereo, French 5.1, a Spanish dub) goes through the real API and
worker; the page lists every audio rendition the manifests name, starts on the default one,
and a choice in the menu makes the engine fetch and play the other language's segments while
the video plays on.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from sample_media.generate import multi_audio_clip
from streamcore.settings import Settings
from tests.assets_http import wait_final
from tests.e2e.conftest import PlayerAsset
from tests.e2e.driver import PlayerPage

pytestmark = pytest.mark.stack
DURATION_S = 16.0  # four 4 s segments: room to switch while the player buffers 12 s ahead
LABELS = ["English", "Français", "Español (doblaje)", "Français 5.1"]


@pytest.fixture(scope="module")
def player_asset(
    stack: Settings, ffmpeg: Path, tmp_path_factory: pytest.TempPathFactory
) -> PlayerAsset:
    """This module's clip, in place of conftest's: the browser and player fixtures use it."""
    source = multi_audio_clip(
        str(ffmpeg), tmp_path_factory.mktemp("audio_media") / "dubs.mkv", DURATION_S
    )
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        response = api.post(
            "/v1/assets",
            content=source.read_bytes(),
            headers={"Content-Type": "video/x-matroska", "X-Filename": quote(source.name)},
        )
        assert response.status_code == 202, response.text
        asset = wait_final(api, response.json()["id"])
    assert asset["status"] == "ready", asset["error"]
    assert [a["label"] for a in asset["audio"]] == LABELS
    return PlayerAsset(
        id=asset["id"], player_url=f"{stack.gateway.entry_url}/player/", duration_s=DURATION_S
    )


@pytest.mark.parametrize("engine", ["hls", "dash"])
def test_the_audio_menu_switches_language_while_playing(player: PlayerPage, engine: str) -> None:
    french = player.record_requests("/audio/fr-2ch/seg_")
    player.open(engine=engine)
    player.wait_playing()
    player.wait_for("s.audioTracks.length === 4", timeout_ms=5000)
    tracks = player.value("s.audioTracks")
    assert [t["label"] for t in tracks] == LABELS
    assert [t["language"] for t in tracks] == ["en", "fr", "es", "fr"]
    assert [t["channels"] for t in tracks] == [2, 2, 2, 6]
    assert player.value("s.audioTrack") == 0  # the manifests' default: English
    menu = player.page.locator("#audio")
    assert menu.is_visible()
    assert menu.locator("option").all_inner_texts() == [
        "English (en)", "Français (fr)", "Español (doblaje) (es)", "Français 5.1 (fr)",
    ]  # fmt: skip
    assert french == []  # nothing of the French track before it is chosen

    menu.select_option(label="Français (fr)")
    player.wait_for("s.audioTrack === 1 && s.audioSwitches === 1", timeout_ms=10000)
    position = player.value("s.currentTime")
    player.wait_for(f"s.currentTime > {position} + 1", timeout_ms=10000)  # still playing
    assert french, "the French segments were fetched"
    assert player.state()["errors"] == [] or all(not e["fatal"] for e in player.state()["errors"])
