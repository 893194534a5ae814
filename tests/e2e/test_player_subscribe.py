"""The web player and premium titles, in a real Chromium against the real stack: a locked title
shows a lock and "Subscribe" instead of playing; subscribing (the plans from GET /v1/plans, a
payment method, POST /v1/subscription) then plays it; a declined card or a bad payment method
is said in the form; a heartbeat refused stops playback and says why.

GET /v1/plans, POST /v1/subscription and the entitlements the catalog and the streaming
service ask for are the stack's subscriptions service's, routed by the gateway.

The local billing provider takes Stripe's test payment methods: ``pm_card_visa`` succeeds,
``pm_card_chargeDeclined`` is declined. Each test's account is new, so it has no subscription
(the free plan). A subscription loses access for real: its card fails and the subscriptions
service's test clock moves through the grace period into Suspended; a stream is stopped from
elsewhere by the account's own DELETE (409 session_ended at the next heartbeat).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, expect

from streamcore.settings import Settings
from tests.e2e.conftest import VIEWPORT, PlayerAsset
from tests.e2e.driver import PlayerPage

pytestmark = pytest.mark.stack

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Viewer:
    id: str
    email: str


@pytest.fixture(scope="module")
def premium_asset(stack: Settings, player_asset: PlayerAsset) -> PlayerAsset:
    """The module's clip as the main asset of a premium film."""
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(base_url=stack.api_url, timeout=30,
                      headers={"Authorization": f"Bearer {key}"}) as api:  # fmt: skip
        title = api.post("/v1/titles", json={"title": "Premium film", "access": "premium"})
        assert title.status_code == 201, title.text
        attached = api.put(f"/v1/titles/{title.json()['id']}/assets/{player_asset.id}", json={})
        assert attached.status_code == 200, attached.text
        asset = api.get(f"/v1/assets/{player_asset.id}").json()
        assert asset["access"] == "premium" and asset["locked"] is False  # an admin: never
    return player_asset


@pytest.fixture
def viewer(stack: Settings) -> Viewer:
    """A new account with one profile (no question asked) and no subscription."""
    email = f"subscriber-{uuid.uuid4().hex[:10]}@example.com"
    key = stack.auth.service_key().get_secret_value()
    body = {"email": email, "display_name": "Subscriber", "role": "viewer", "password": PASSWORD}
    created = httpx.post(f"{stack.api_url}/v1/admin/accounts", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert created.status_code == 201, created.text
    return Viewer(id=created.json()["account"]["id"], email=email)


@pytest.fixture
def player(browser: Browser, premium_asset: PlayerAsset) -> Iterator[PlayerPage]:
    driver = PlayerPage(
        page=browser.new_context(viewport=VIEWPORT).new_page(),
        player_url=premium_asset.player_url,
        asset_id=premium_asset.id,
    )
    yield driver
    driver.close()
    assert driver.page_errors == [], f"uncaught errors in the page: {driver.page_errors}"


def _sign_in_to_subscribe(player: PlayerPage, viewer: Viewer) -> None:
    """From the lock: "Subscribe", then the sign-in it asks for, until the plans show."""
    page = player.page
    expect(page.get_by_test_id("locked")).to_be_visible()
    page.get_by_test_id("subscribe-open").click()
    expect(page.get_by_test_id("signin-reason")).to_have_text("Sign in to subscribe.")
    page.get_by_test_id("signin-email").fill(viewer.email)
    page.get_by_test_id("signin-password").fill(PASSWORD)
    page.get_by_test_id("signin-submit").click()
    player.wait_for("s.auth.signedIn && s.phase === 'subscribe'", timeout_ms=15000)
    expect(page.get_by_test_id("subscribe-form")).to_be_visible()


def _subscribe(player: PlayerPage, payment_method: str) -> None:
    player.page.get_by_test_id("payment-method").fill(payment_method)
    player.page.get_by_test_id("subscribe-submit").click()


def _subscribed_and_playing(player: PlayerPage) -> None:
    page = player.page
    page.get_by_test_id("subscribe-submit").click()
    player.wait_playing(timeout_ms=20000)
    state = player.state()
    assert state["subscription"]["subscribed"] and state["subscription"]["plan"] == "premium"
    assert state["session"]["slot"], state["session"]


def test_a_locked_title_shows_the_lock_then_plays_once_subscribed(
    player: PlayerPage, viewer: Viewer
) -> None:
    player.open()
    player.wait_for("s.phase === 'locked'", timeout_ms=15000)
    page = player.page
    expect(page.get_by_test_id("subscribe-open")).to_have_text("Subscribe")
    assert player.value("s.session.id") is None and player.value("s.framesPresented") == 0

    _sign_in_to_subscribe(player, viewer)
    plans = page.get_by_test_id("plan")
    assert "premium" in player.value("s.subscription.plans")
    expect(plans.filter(has_text="premium titles").first).to_be_visible()
    # The plan that includes premium titles is the one chosen unless the viewer picks another.
    expect(page.locator("[data-plan=premium] input")).to_be_checked()
    expect(page.get_by_test_id("payment-method")).to_have_value("pm_card_visa")  # prefilled

    _subscribe(player, "pm_card_chargeDeclined")  # declined: said in the form, which stays
    player.wait_for("s.subscription.error && s.subscription.error.status === 402",
                    timeout_ms=15000)  # fmt: skip
    expect(page.get_by_test_id("subscribe-error")).to_be_visible()
    assert player.value("s.subscription.error.code") == "payment_failed"
    assert player.value("s.phase") == "subscribe"

    page.get_by_test_id("payment-method").fill("pm_card_visa")
    _subscribed_and_playing(player)


def test_a_refusal_at_playback_offers_the_plans(player: PlayerPage, viewer: Viewer) -> None:
    """With the catalog unreachable the page cannot tell the title is locked: the streaming
    service's 403 not_entitled leads to the plans all the same."""
    page = player.page
    page.route(lambda url: f"/v1/assets/{player.asset_id}" in url, lambda route: route.abort())
    player.open()
    player.wait_for("s.phase === 'locked'", timeout_ms=15000)
    assert player.value("s.subscription.reason")  # the streaming service's own words
    _sign_in_to_subscribe(player, viewer)
    expect(page.get_by_test_id("subscribe-reason")).not_to_be_empty()

    _subscribe(player, "pm_not_a_method")  # 400 invalid_payment_method: said in the form
    player.wait_for("s.subscription.error && s.subscription.error.status === 400",
                    timeout_ms=15000)  # fmt: skip
    expect(page.get_by_test_id("subscribe-error")).to_be_visible()
    page.get_by_test_id("subscribe-cancel").click()  # "Not now": back to the lock
    player.wait_for("s.phase === 'locked'", timeout_ms=5000)
    page.get_by_test_id("subscribe-open").click()
    player.wait_for("s.phase === 'subscribe'", timeout_ms=10000)
    page.get_by_test_id("payment-method").fill("pm_card_visa")
    _subscribed_and_playing(player)


def test_a_suspension_stops_playback_at_the_next_heartbeat_and_says_why(
    player: PlayerPage, viewer: Viewer, stack: Settings
) -> None:
    """A real suspension: the card fails from now on, the test clock moves past the period's
    end (the renewal fails: GracePeriod) and past the grace period (Suspended, the free plan),
    the tick runs; the next heartbeat is refused 403 not_entitled and the page says why."""
    player.open()
    player.wait_for("s.phase === 'locked'", timeout_ms=15000)
    _sign_in_to_subscribe(player, viewer)
    _subscribed_and_playing(player)  # with the prefilled pm_card_visa
    page = player.page
    beat_s = player.value("s.session.heartbeatS")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('streamcore.auth')).access_token")
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(base_url=stack.api_url, timeout=30) as api:
        admin = {"Authorization": f"Bearer {key}"}
        declined = {"payment_method": "pm_card_chargeDeclined"}
        changed = api.post("/v1/subscription/payment-method", json=declined,
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert changed.status_code == 200, changed.text
        for days in (32, stack.subscriptions.grace_days + 1):
            moved = api.post("/v1/admin/subscriptions/clock", json={"advance_s": days * 86400},
                             headers=admin)  # fmt: skip
            assert moved.status_code == 200, moved.text
            assert api.post("/v1/admin/subscriptions/tick", headers=admin).status_code == 200
        mine = api.get("/v1/subscription", headers={"Authorization": f"Bearer {token}"})
        assert mine.json()["state"] == "Suspended", mine.text

    # Within a heartbeat, and the entitlement its answer may be remembered for.
    wait_s = beat_s + stack.subscriptions.entitlements_cache_s + 5
    player.wait_for("s.phase === 'stopped'", timeout_ms=wait_s * 1000)
    assert player.value("s.session.endedCode") == "not_entitled"
    expect(page.get_by_test_id("ended-text")).to_contain_text("no longer includes this title")
    expect(page.get_by_test_id("play-here")).to_have_text("See plans")
    frozen = player.value("s.currentTime")
    page.wait_for_timeout(1000)
    assert player.value("s.currentTime") == frozen


def test_a_stream_stopped_from_elsewhere_stops_and_offers_to_play_here(
    player: PlayerPage, viewer: Viewer, stack: Settings
) -> None:
    player.open()
    player.wait_for("s.phase === 'locked'", timeout_ms=15000)
    _sign_in_to_subscribe(player, viewer)
    _subscribed_and_playing(player)
    page = player.page
    beat_s = player.value("s.session.heartbeatS")
    # The account's own DELETE, as another device would: 409 session_ended at the heartbeat.
    token = page.evaluate("JSON.parse(sessionStorage.getItem('streamcore.auth')).access_token")
    session_id = player.value("s.session.id")
    stopped = httpx.delete(f"{stack.api_url}/v1/sessions/{session_id}", timeout=10,
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert stopped.status_code in (200, 204), stopped.text
    player.wait_for("s.phase === 'stopped'", timeout_ms=(beat_s + 5) * 1000)
    assert player.value("s.session.endedCode") == "session_ended"
    expect(page.get_by_test_id("ended-text")).to_contain_text("Playback stopped: ")
    expect(page.get_by_test_id("play-here")).to_have_text("Play here")
    page.get_by_test_id("play-here").click()
    player.wait_playing(timeout_ms=20000)


def test_a_basic_subscriber_upgrades_from_the_lock(
    player: PlayerPage, viewer: Viewer, stack: Settings
) -> None:
    """Basic has no premium titles: the form's premium plan changes the plan (an upgrade, at
    once) instead of subscribing twice."""
    login = {"email": viewer.email, "password": PASSWORD, "device_name": "setup"}
    with httpx.Client(base_url=stack.api_url, timeout=30) as api:
        signed = api.post("/v1/auth/login", json=login)
        assert signed.status_code == 200, signed.text
        person = {"Authorization": f"Bearer {signed.json()['access_token']}"}
        basic = {"plan": "basic", "payment_method": "pm_card_visa"}
        assert api.post("/v1/subscription", json=basic, headers=person).status_code == 201
        api.post("/v1/auth/logout", headers=person)
    player.open()
    player.wait_for("s.phase === 'locked'", timeout_ms=15000)
    _sign_in_to_subscribe(player, viewer)
    _subscribed_and_playing(player)
