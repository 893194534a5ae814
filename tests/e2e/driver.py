"""A thin driver for the web player in a real Chromium: open it, read `window.streamcorePlayer`,
use its controls, and shape the network it sees (DevTools throttling, failing routes).

Everything the tests know about the page goes through here, so that a change of markup or of
the state contract is fixed in one place.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import CDPSession, Page, Request, Route
from playwright.sync_api import Error as PlaywrightError

# The video element's frame as the viewer sees it: drawn into a canvas, averaged. MSE media
# fetched with CORS does not taint the canvas, so this also proves the CORS headers are right.
FRAME_STATS_JS = """
() => {
  const video = document.getElementById("video");
  const canvas = document.createElement("canvas");
  canvas.width = 160;
  canvas.height = 90;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let sum = 0, sumSq = 0;
  const n = data.length / 4;
  for (let i = 0; i < data.length; i += 4) {
    const y = 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
    sum += y;
    sumSq += y * y;
  }
  const mean = sum / n;
  return { mean, stddev: Math.sqrt(Math.max(0, sumSq / n - mean * mean)) };
}
"""


@dataclass
class PlayerPage:
    page: Page
    player_url: str  # .../player/
    asset_id: str
    page_errors: list[str] = field(default_factory=list)
    cdp: CDPSession | None = None
    held: list[Route] = field(default_factory=list)  # requests left hanging on purpose

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def close(self) -> None:
        """Let go of the requests held open, then close the page's context."""
        for route in self.held:
            # The page may have given up on them already.
            with contextlib.suppress(PlaywrightError):
                route.abort()
        self.page.context.close()

    # -- opening and reading -------------------------------------------------------------

    def open(self, **params: str) -> None:
        self.page.goto(f"{self.player_url}?{urlencode({'asset': self.asset_id, **params})}")
        self.wait_for("window.streamcorePlayer !== undefined", timeout_ms=5000)

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate("window.streamcorePlayer")
        return state

    def value(self, expression: str) -> Any:
        """A JS expression over `s`, the player state, e.g. ``s.levels.length``."""
        return self.page.evaluate(
            f"(() => {{ const s = window.streamcorePlayer; return {expression}; }})()"
        )

    def wait_for(self, condition: str, *, timeout_ms: float, polling_ms: float = 50) -> None:
        """Wait until a JS condition over `s` (the player state) holds."""
        self.page.wait_for_function(
            f"(() => {{ const s = window.streamcorePlayer; return Boolean({condition}); }})()",
            timeout=timeout_ms,
            polling=polling_ms,
        )

    def now_ms(self) -> float:
        """The page's clock, in which the state's `at` fields are written."""
        now: float = self.page.evaluate("Date.now()")
        return now

    def wait_playing(self, *, timeout_ms: float = 15000) -> None:
        """Until a frame has been painted and the playhead has moved."""
        self.wait_for(
            "s.phase === 'playing' && s.framesPresented > 0 && s.currentTime > 0.2",
            timeout_ms=timeout_ms,
        )

    def frame_stats(self) -> dict[str, float]:
        stats: dict[str, float] = self.page.evaluate(FRAME_STATS_JS)
        return stats

    # -- controls --------------------------------------------------------------------------

    def level_index(self, height: int) -> int:
        self.wait_for("s.ready && s.levels.length > 0", timeout_ms=10000)
        for level in self.state()["levels"]:
            if level["height"] == height:
                return int(level["index"])
        raise AssertionError(f"no {height}p rendition in {self.state()['levels']}")

    def choose_quality(self, index: int) -> None:
        """-1: Auto."""
        self.page.get_by_test_id("quality").select_option(str(index))

    def seek_with_bar(self, seconds: float) -> None:
        self.page.get_by_test_id("seek").fill(f"{seconds:.1f}")

    def toggle_play(self) -> None:
        self.page.get_by_test_id("play").click()

    # -- the network -------------------------------------------------------------------------

    def cap_download(self, bits_per_second: int | None) -> None:
        """Throttle every download of the page (None: no cap), as DevTools does. Call it once
        before `open()` too, so that the DevTools session is in place before it matters."""
        if self.cdp is None:
            self.cdp = self.page.context.new_cdp_session(self.page)
            self.cdp.send("Network.enable")
        rate = bits_per_second / 8 if bits_per_second else -1
        self.cdp.send(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": rate, "uploadThroughput": -1},
        )

    def break_host(self, origin: str, failure: int | str) -> list[str]:
        """Make every request to `origin` fail: an HTTP status (with the JSON error body and
        CORS headers our services send), or "hang" (never answered). Returns the URLs hit."""
        hits: list[str] = []

        def handle(route: Route) -> None:
            hits.append(route.request.url)
            if failure == "hang":
                self.held.append(route)  # neither fulfilled nor continued: it stays open
                return
            route.fulfill(
                status=int(failure),
                headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
                content_type="application/json",
                body=json.dumps({"error": {"code": "test_failure", "message": "made to fail"}}),
            )

        self.page.route(lambda url: url.startswith(origin + "/"), handle)
        return hits

    def expire_token(self, origin: str) -> list[str]:
        """From now on, the token the page plays with has expired: segment requests carrying
        it are answered 403 `token_expired`, as the edge does. Returns the URLs refused."""
        hits: list[str] = []
        expired: list[str] = []  # the token of the first segment request seen

        def handle(route: Route) -> None:
            url = route.request.url
            token = url.split("/t/", 1)[1].split("/", 1)[0] if "/t/" in url else ""
            # By the path: media URLs of our sources carry the player's CMCD in their query.
            if urlsplit(url).path.endswith(".m4s") and not expired:
                expired.append(token)
            if expired and token == expired[0]:
                hits.append(url)
                route.fulfill(
                    status=403,
                    headers={"Access-Control-Allow-Origin": "*"},
                    content_type="application/json",
                    body=json.dumps(
                        {"error": {"code": "token_expired", "message": "the token has expired"}}
                    ),
                )
            else:
                route.fallback()

        self.page.route(lambda url: url.startswith(origin + "/"), handle)
        return hits

    def record_requests(self, fragment: str) -> list[str]:
        """Every request URL containing `fragment` from now on."""
        seen: list[str] = []

        def on_request(request: Request) -> None:
            if fragment in request.url:
                seen.append(request.url)

        self.page.on("request", on_request)
        return seen
