"""The local stack's demo account (devstack/demo.py), made against the test stack's own auth and
subscriptions services through its gateway: created once with its two profiles and a Premium
subscription, and left as it is by every later run."""

from __future__ import annotations

import httpx
import pytest

from devstack import demo
from streamcore.settings import Settings

pytestmark = pytest.mark.stack


def test_the_demo_account_is_premium_and_made_once(stack: Settings) -> None:
    first = demo.ensure(stack)
    again = demo.ensure(stack)
    assert first.password is not None and again.password == first.password
    assert not again.created
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        body = {"email": demo.EMAIL, "password": first.password, "device_name": "test"}
        login = http.post("/v1/auth/login", json=body)
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        subscription = http.get("/v1/subscription").json()
        assert (subscription["plan"], subscription["state"]) == ("premium", "Active")
        assert subscription["version"] == 1  # the second run subscribed nothing more
        profiles = http.get("/v1/profiles").json()["items"]
        assert sorted(p["name"] for p in profiles) == ["Demo", "Kids"]
        http.post("/v1/auth/logout")


def test_the_demo_operator_is_an_admin_made_once(stack: Settings) -> None:
    first = demo.ensure_operator(stack)
    again = demo.ensure_operator(stack)
    assert first.password is not None and again.password == first.password
    assert not again.created
    with httpx.Client(base_url=stack.api_url, timeout=30) as http:
        body = {"email": demo.OPERATOR_EMAIL, "password": first.password, "device_name": "test"}
        login = http.post("/v1/auth/login", json=body)
        assert login.status_code == 200, login.text
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        assert http.get("/v1/me").json()["role"] == "admin"
        http.post("/v1/auth/logout")
