"""Automatic tightening end to end: failed sign-ins across accounts from one network range,
through the real gateway to the stack's auth service, reduce that range's budgets in every
service (429 ``abnormal_usage``), leave another range alone, and are lifted by the CLI.

The clients are outside addresses named in X-Forwarded-For (the gateway, on loopback, is a
trusted hop); each run takes a fresh IPv6 /56, so its ban touches nothing else.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time

import httpx
import pytest

from streamcore.settings import Settings
from tests.integration.ratelimit.limits import client_v6, forwarded

pytestmark = pytest.mark.stack


def _fresh_range() -> tuple[str, list[str]]:
    """A /56 of the documentation prefix and an address in each of 16 of its /64s."""
    head = f"2001:db8:{secrets.randbelow(0xFFFF):x}:{secrets.randbelow(0xFF):x}"
    hosts = [f"{head}{n:02x}::{secrets.randbelow(0xFFFF) + 1:x}" for n in range(16)]
    return f"{head}00::/56", hosts


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", "ratelimit", *args], capture_output=True, text=True,
        check=False, timeout=60, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip


def _bans(http: httpx.Client, admin: dict[str, str]) -> dict[str, dict[str, object]]:
    answer = http.get("/v1/admin/ratelimit/bans", headers=admin)
    assert answer.status_code == 200, answer.text
    return {ban["range"]: ban for ban in answer.json()["items"]}


def test_failed_sign_ins_across_accounts_tighten_one_range_until_lifted(stack: Settings) -> None:
    range_, hosts = _fresh_range()
    admin = {"Authorization": f"Bearer {stack.auth.service_key().get_secret_value()}"}
    tag = secrets.token_hex(4)
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        threshold = stack.ratelimit.abuse.failed_login_accounts
        for n, host in enumerate(hosts[: threshold + 2]):
            guess = {"email": f"victim-{tag}-{n}@example.com", "password": "guessed password"}
            assert (
                http.post("/v1/auth/login", json=guess, headers=forwarded(host)).status_code == 401
            )
        deadline = time.monotonic() + 15  # the monitors judge every second
        while range_ not in (bans := _bans(http, admin)):
            assert time.monotonic() < deadline, f"{range_} was not banned: {sorted(bans)}"
            time.sleep(0.25)
        ban = bans[range_]
        assert ban["reason"] == "failed_logins" and ban["factor"] == 0.1

        # Any service, any address of the range: a tenth of the budget, then abnormal_usage.
        reader = forwarded(hosts[-1])
        reads = [http.get("/v1/titles", headers=reader) for _ in range(11)]
        assert reads[0].headers["RateLimit-Policy"] == '"read";q=10;w=60'
        assert [r.status_code for r in reads] == [200] * 10 + [429]
        assert reads[10].json()["error"]["code"] == "abnormal_usage"
        # Another range, at the same time, is untouched.
        other = http.get("/v1/titles", headers=forwarded(client_v6()))
        assert other.status_code == 200
        assert other.headers["RateLimit-Policy"] == '"read";q=100;w=60'

        listed = _cli("bans", "--json")
        assert listed.returncode == 0, listed.stderr
        assert range_ in {ban["range"] for ban in json.loads(listed.stdout)["items"]}
        lifted = _cli("unban", range_)
        assert lifted.returncode == 0, lifted.stderr
        assert range_ not in _bans(http, admin)
        after = http.get("/v1/titles", headers=reader)
        assert after.status_code == 200
        assert after.headers["RateLimit-Policy"] == '"read";q=100;w=60'

    metrics = httpx.get(f"{stack.auth.url}/metrics", timeout=10).text
    trips = re.findall(
        r'ratelimit_abuse_trips_total\{[^}]*reason="failed_logins"[^}]*\} (\S+)', metrics
    )
    assert sum(float(t) for t in trips) >= 1
