"""`streamcore subscriptions list|show|events` against the real stack, with the stack's
service account key (the settings' first, as the CLI uses by default)."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from tests.integration.subscriptions.subs_http import person, subscribe

pytestmark = pytest.mark.stack


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli", "subscriptions", *args], capture_output=True, text=True,
        check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr or done.stdout
    return done.stdout


def test_list_show_and_events(http: httpx.Client) -> None:
    user = person(http)
    sub = subscribe(http, user.headers, plan="premium")
    assert http.post("/v1/subscription/cancel", headers=user.headers).status_code == 200
    listed = json.loads(_cli("list", "--state", "Cancelled", "--plan", "premium", "--json"))
    assert sub["id"] in [s["id"] for s in listed["items"]]
    assert all(s["state"] == "Cancelled" for s in listed["items"])
    shown = json.loads(_cli("show", sub["id"], "--json"))
    assert (shown["state"], shown["version"]) == ("Cancelled", 2)
    history = json.loads(_cli("events", sub["id"], "--json"))["items"]
    assert [e["event"] for e in history] == ["subscribe", "cancel"]
    assert "cancel" in _cli("events", sub["id"]) and "Cancelled" in _cli("show", sub["id"])
