"""The admin dashboard in a real Chromium, with real data from a real run.

A viewer plays the uploaded clip in the bundled player (its events go through the gateway to
the analytics collector, the processor stores them), catalog and recommendation reads give
the platform figures something to count, the rollup and the platform job run (as the
processor runs them each minute); then the dashboard page is opened through the gateway:
an admin sees every chart drawn with data, a live message (a rollup's notice over the
WebSocket) refreshes it without a reload, a viewer is refused, and nothing is logged to the
console as an error. The screenshot is docs/images/dashboard.png (linked from docs/analytics.md).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from streamcore.settings import Settings
from tests.e2e.conftest import VIEWPORT, PlayerAsset
from tests.e2e.driver import PlayerPage
from tests.integration.auth.auth_http import PASSWORD, new_email, signed_in, wait_for
from tests.integration.subscriptions.subs_http import subscribe

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "dashboard.png"
CHARTS = (
    "chart-concurrent", "chart-qoe", "chart-rps", "chart-latency", "chart-cache",
    "chart-recommendations", "chart-top", "chart-subscriptions", "chart-queues",
)  # fmt: skip
# Every chart exists and at least one of its series has a number in it.
CHARTS_DRAWN_JS = """
(ids) => ids.filter((id) => {
  const chart = window.Chart && window.Chart.getChart(document.getElementById(id));
  return !(chart && chart.data.datasets.some((d) => d.data.some((v) => typeof v === "number")));
})
"""


@pytest.fixture(scope="module")
def api(stack: Settings) -> Iterator[httpx.Client]:
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(
        base_url=stack.gateway.entry_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        yield client


def _account(api: httpx.Client, role: str) -> str:
    email = new_email(role)
    made = api.post("/v1/admin/accounts", json={"email": email, "role": role, "password": PASSWORD})
    assert made.status_code == 201, made.text
    return email


def _sign_in(page: Page, url: str, email: str) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _played(player: PlayerPage) -> str:
    """Play the clip for a few seconds, then leave the page (its events flush by beacon)."""
    player.open()
    player.wait_playing()
    player.wait_for("s.currentTime > 4", timeout_ms=15000)
    session: str = player.value("s.sessionId")
    player.page.close()
    return session


@pytest.fixture(scope="module")
def real_run(
    stack: Settings, api: httpx.Client, browser: Browser, player_asset: PlayerAsset
) -> dict[str, Any]:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    player = PlayerPage(page=page, player_url=player_asset.player_url, asset_id=player_asset.id)
    session = _played(player)
    assert player.page_errors == [], player.page_errors
    found = wait_for(
        lambda: (r := api.get(f"/v1/analytics/sessions/{session}")).status_code == 200
        and r.json(),
        timeout_s=30, what="the played session in analytics",
    )  # fmt: skip
    # A subscriber, and the recommendations of its profile (their latency is charted).
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        viewer = signed_in(http)
        subscribe(http, viewer.headers)
        rows = f"/v1/profiles/{viewer.tokens['profile_id']}/recommendations"

        def traffic() -> None:
            assert http.get(rows, headers=viewer.headers).status_code == 200
            for _ in range(3):  # the catalog's cache: a miss, then hits
                assert http.get("/v1/titles").status_code == 200

        # The platform job keeps counters (a histogram only once it has observed something);
        # a minute's rate is the increase since the reading of a minute before. So: traffic,
        # a reading, the next minute, traffic, another reading.
        traffic()
        assert api.post("/v1/analytics/platform/collect").status_code == 200
        time.sleep(60.5 - time.time() % 60)
        traffic()
    rolled = api.post("/v1/analytics/rollups", json={"since": "15m"})
    assert rolled.status_code == 200, rolled.text
    collected = api.post("/v1/analytics/platform/collect")
    assert collected.status_code == 200, collected.text
    return found


def _wait(page: Page, expression: str, timeout_s: float = 15.0) -> None:
    """Until `expression` is true in the page. Polled with page.evaluate, not
    wait_for_function: that compiles its condition with eval in the page, which the page's
    CSP (no unsafe-eval) rightly refuses, and the page must be tested under its own CSP."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(200)


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def test_an_admin_sees_every_chart_drawn_and_a_live_update(
    stack: Settings, api: httpx.Client, browser: Browser, real_run: dict[str, Any]
) -> None:
    assert real_run["startup_ms"] is not None and real_run["played_ms"] > 0
    page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
    errors = _console_errors(page)
    _sign_in(page, f"{stack.gateway.entry_url}/admin/dashboard/", _account(api, "admin"))
    page.wait_for_selector("#board:not([hidden])", timeout=15000)
    deadline, missing = time.monotonic() + 15, list(CHARTS)
    while missing and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        missing = page.evaluate(f"({CHARTS_DRAWN_JS})({list(CHARTS)!r})")
    assert not missing, f"charts without data: {missing}"
    assert page.locator("#instances tbody tr").count() >= 1
    _wait(page, "document.getElementById('live').textContent === 'live: live'")

    # A rollup announces itself to admins over the WebSocket; the page refreshes on it.
    before = int(page.locator("#live").get_attribute("data-updates") or 0)
    assert api.post("/v1/analytics/rollups", json={"since": "5m"}).status_code == 200
    _wait(page, f"Number(document.getElementById('live').dataset.updates) > {before}")
    assert page.locator("#live").get_attribute("data-last") == "rollup"
    page.wait_for_timeout(500)  # the refresh it started draws
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert errors == [], errors
    page.context.close()


def test_a_viewer_is_refused(stack: Settings, api: httpx.Client, browser: Browser) -> None:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    _sign_in(page, f"{stack.gateway.entry_url}/admin/dashboard/", _account(api, "viewer"))
    page.wait_for_selector("#refused:not([hidden])", timeout=15000)
    assert page.locator("#board").is_hidden()
    # The API itself refuses, whatever the page does.
    token = page.evaluate("sessionStorage.getItem('streamcore.dashboard.token')")
    refused = httpx.get(
        f"{stack.gateway.entry_url}/v1/analytics/qoe", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403 and refused.json()["error"]["code"]
    page.context.close()
