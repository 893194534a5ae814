"""The web player with accounts, in a real Chromium against the real stack: sign in, choose a
profile, play on a stream slot whose heartbeats renew the playback tokens, and, when the
account's plan has no slot left, see who holds them, stop that stream and play.

Two browser contexts are two devices (their own sessionStorage, their own sign-in). The
account is made for the test through the admin API, without a subscription: the free plan (one
stream at a time, configs/plans.yaml), with a second profile to choose from. Its entitlement
comes from the stack's subscriptions service (issue 13).
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
ADULT, KIDS = "Grown-up", "Kids"


@dataclass(frozen=True)
class Account:
    id: str
    email: str


@pytest.fixture
def account(stack: Settings) -> Account:
    """A viewer on the free plan (one stream) with two profiles: ADULT (its first) and KIDS."""
    return make_account(stack)


def make_account(stack: Settings, plan: str | None = None) -> Account:
    """A viewer with two profiles, ADULT (its first) and KIDS, subscribed to `plan` (paid with
    the local billing provider's test card; None: no subscription, the free plan)."""
    email = f"player-{uuid.uuid4().hex[:10]}@example.com"
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(base_url=stack.api_url, timeout=30) as api:
        admin = {"Authorization": f"Bearer {key}"}
        body = {"email": email, "display_name": ADULT, "role": "viewer", "password": PASSWORD}
        created = api.post("/v1/admin/accounts", json=body, headers=admin)
        assert created.status_code == 201, created.text
        account_id = created.json()["account"]["id"]
        credentials = {"email": email, "password": PASSWORD, "device_name": "setup"}
        login = api.post("/v1/auth/login", json=credentials)
        assert login.status_code == 200, login.text
        person = {"Authorization": f"Bearer {login.json()['access_token']}"}
        kids = {"name": KIDS, "maturity": "kids", "language": "en"}
        assert api.post("/v1/profiles", json=kids, headers=person).status_code == 201
        if plan is not None:
            paid = {"plan": plan, "payment_method": "pm_card_visa"}
            subscribed = api.post("/v1/subscription", json=paid, headers=person)
            assert subscribed.status_code == 201, subscribed.text
        assert api.post("/v1/auth/logout", headers=person).status_code == 204
    return Account(id=account_id, email=email)


@pytest.fixture
def devices(browser: Browser, player_asset: PlayerAsset) -> Iterator[list[PlayerPage]]:
    """Two player pages in contexts of their own: two devices."""
    pages = [
        PlayerPage(
            page=browser.new_context(viewport=VIEWPORT).new_page(),
            player_url=player_asset.player_url,
            asset_id=player_asset.id,
        )
        for _ in range(2)
    ]
    yield pages
    for page in pages:
        page.close()
    for page in pages:
        assert page.page_errors == [], f"uncaught errors in the page: {page.page_errors}"


def sign_in(player: PlayerPage, email: str, profile: str, **params: str) -> None:
    """Open the page (with `params`, e.g. ``engine="dash"``), sign in (asked by the API, or
    from the account bar when anonymous playback is allowed) and choose `profile`."""
    player.open(**params)
    # Anonymous playback (where allowed) plays first; otherwise the API asks for a sign-in.
    player.wait_for("s.phase === 'signin' || s.phase === 'playing'", timeout_ms=15000)
    page = player.page
    from_bar = player.value("s.phase") != "signin"
    if from_bar:
        page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("signin-form")).to_be_visible()
    page.get_by_test_id("signin-email").fill(email)
    page.get_by_test_id("signin-password").fill(PASSWORD)
    if from_bar:  # signing in from the bar starts the page again, signed in
        with page.expect_navigation():
            page.get_by_test_id("signin-submit").click()
        player.wait_for("true", timeout_ms=5000)
    else:
        page.get_by_test_id("signin-submit").click()
    player.wait_for("s.auth.signedIn && s.phase === 'profiles'", timeout_ms=15000)
    profiles = page.get_by_test_id("profile")
    expect(profiles).to_have_count(2)
    profiles.filter(has_text=profile).click()
    player.wait_for(f"s.auth.profileName === {profile!r}", timeout_ms=10000)


def test_sign_in_pick_a_profile_and_play_with_renewed_tokens(
    devices: list[PlayerPage], account: Account
) -> None:
    player = devices[0]
    sign_in(player, account.email, ADULT)
    player.wait_playing()
    state = player.state()
    assert state["auth"]["email"] == account.email and state["auth"]["deviceId"]
    assert state["session"]["slot"] and state["session"]["id"], state["session"]
    expect(player.page.get_by_test_id("account-status")).to_have_text(f"{account.email} · {ADULT}")
    # A heartbeat brings fresh playback tokens, and the media requests after it carry them.
    beat_s = state["session"]["heartbeatS"]
    timeout_ms = (beat_s * 2 + 8) * 1000
    player.wait_for("s.tokens.renewals >= 1 && s.tokens.rewritten >= 1", timeout_ms=timeout_ms)
    before = player.value("s.currentTime")
    player.page.wait_for_timeout(1500)
    assert player.value("s.currentTime") > before + 1, "playback stalled after the renewal"
    assert player.value("s.errors.filter((e) => e.status === 403).length") == 0


def test_too_many_streams_stop_the_other_and_play(
    devices: list[PlayerPage], account: Account
) -> None:
    first, second = devices
    sign_in(first, account.email, ADULT)
    first.wait_playing()
    first_device = first.value("s.auth.deviceId")

    sign_in(second, account.email, ADULT)
    second.wait_for("s.phase === 'streams'", timeout_ms=15000)
    holders = second.page.get_by_test_id("stream-holder")
    expect(holders).to_have_count(1)
    holder = second.value("s.streams.holders[0]")
    assert holder["device_id"] == first_device, holder
    assert holder["device_name"] and "web player" in holder["device_name"], holder
    expect(holders.first).to_contain_text(holder["device_name"])
    holders.first.get_by_test_id("stop-stream").click()
    second.wait_playing()
    assert second.value("s.streams.stopped") == holder["session_id"]

    # The stopped device learns it at its next heartbeat, and offers to play here again.
    beat_s = first.value("s.session.heartbeatS")
    first.wait_for("s.phase === 'stopped'", timeout_ms=(beat_s + 5) * 1000)
    expect(first.page.get_by_test_id("ended")).to_be_visible()
    frozen = first.value("s.currentTime")
    first.page.wait_for_timeout(1000)
    assert first.value("s.currentTime") == frozen


def test_a_kids_profile_may_not_play_an_unrated_asset(
    devices: list[PlayerPage], account: Account
) -> None:
    player = devices[0]
    sign_in(player, account.email, KIDS)
    player.wait_for("s.phase === 'failed'", timeout_ms=15000)
    assert KIDS in player.value("s.message"), player.value("s.message")
    assert player.value("s.session.id") is None


def test_sign_up_from_the_player_and_play(devices: list[PlayerPage]) -> None:
    player = devices[0]
    email = f"signup-{uuid.uuid4().hex[:10]}@example.com"
    player.open()
    player.wait_for("s.phase === 'signin' || s.phase === 'playing'", timeout_ms=15000)
    page = player.page
    from_bar = player.value("s.phase") != "signin"
    if from_bar:
        page.get_by_test_id("sign-in").click()
    page.get_by_test_id("signup-link").click()
    expect(page.get_by_test_id("signup-form")).to_be_visible()
    page.get_by_test_id("signup-name").fill("Newcomer")
    page.get_by_test_id("signup-email").fill(email)
    page.get_by_test_id("signup-password").fill("short")
    page.get_by_test_id("signup-submit").click()  # the browser refuses it: minlength 8
    expect(page.get_by_test_id("signup-form")).to_be_visible()
    page.get_by_test_id("signup-password").fill(PASSWORD)
    if from_bar:
        with page.expect_navigation():
            page.get_by_test_id("signup-submit").click()
    else:
        page.get_by_test_id("signup-submit").click()
    # One profile (made with the account): no question asked, it plays.
    player.wait_playing(timeout_ms=20000)
    state = player.state()
    assert state["auth"]["email"] == email and state["auth"]["profileName"] == "Newcomer"
    assert state["session"]["slot"]
