"""Fixtures of the browser tests: one clip uploaded through the real API, one headless Chromium.

The page comes from the catalog (/player/) through the gateway, so it reaches the streaming
service at its own origin, as a viewer's browser does.

Both are module-scoped. Playwright's sync API marks an event loop as running in this thread
while it is alive, so it must be stopped before any other module runs asyncio code; and it is
started after the stack (`player_asset` depends on `stack`) for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from sample_media.generate import Clip, generate
from streamcore.settings import Settings
from tests.assets_http import wait_final
from tests.e2e.driver import PlayerPage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--autoplay-policy=no-user-gesture-required",
]
# 720p source, so that the ladder has three renditions (360p, 480p, 720p) to switch between;
# 12 fps and a test pattern keep encoding fast; 36 s (nine 4 s segments) leaves room to switch
# down and back up while playing, with the 12 s the player buffers ahead.
CLIP = Clip("player", "player_720p12_36s.mp4", 1280, 720, 12, 36, 2, "browser tests")
# Wide enough that capLevelToPlayerSize lets ABR reach 720p (the video is 960 px wide).
VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class PlayerAsset:
    id: str
    player_url: str
    duration_s: float


def upload_ready(stack: Settings, path: Path, content_type: str = "video/mp4") -> dict[str, Any]:
    """`path` uploaded through the API (as the stack's service account) and processed."""
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as api:
        response = api.post(
            "/v1/assets",
            content=path.read_bytes(),
            headers={"Content-Type": content_type, "X-Filename": quote(path.name)},
        )
        assert response.status_code == 202, response.text
        asset = wait_final(api, response.json()["id"])
    assert asset["status"] == "ready", asset["error"]
    return asset


def player_asset_of(stack: Settings, asset: dict[str, Any], duration_s: float) -> PlayerAsset:
    return PlayerAsset(
        id=asset["id"], player_url=f"{stack.gateway.entry_url}/player/", duration_s=duration_s
    )


@pytest.fixture(scope="module")
def player_asset(
    stack: Settings,
    ffmpeg: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> PlayerAsset:
    path = generate(str(ffmpeg), CLIP, tmp_path_factory.mktemp("player_media"))
    asset = upload_ready(stack, path)
    heights = sorted(r["height"] for r in asset["renditions"])
    assert heights == [360, 480, 720], heights
    return player_asset_of(stack, asset, CLIP.duration_s)


@pytest.fixture(scope="module")
def browser(player_asset: PlayerAsset) -> Iterator[Browser]:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def player(browser: Browser, player_asset: PlayerAsset) -> Iterator[PlayerPage]:
    """The player page in a fresh context: its own localStorage, so a new viewer."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    driver = PlayerPage(
        page=page, player_url=player_asset.player_url, asset_id=player_asset.id,
    )  # fmt: skip
    yield driver
    driver.close()
    assert driver.page_errors == [], f"uncaught errors in the page: {driver.page_errors}"


def origin_of(url: str) -> str:
    """``http://127.0.0.1:38082/t/...`` -> ``http://127.0.0.1:38082``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
