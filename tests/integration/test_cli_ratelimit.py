"""`streamcore ratelimit status|bans|unban` against the stack's gateway (and through it the
auth service's admin API), with the stack's service account key as the CLI uses by default:
a ban a real monitor made is listed and lifted; what is not a range is refused before any
call (exit 2); a range not banned is the API's refusal (exit 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from streamcore.settings import Settings
from tests.integration.ratelimit.bans_helpers import ban_by_attack, random_address

pytestmark = pytest.mark.stack


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # rich's tables and error box, on one line
    return subprocess.run([sys.executable, "-m", "cli", "ratelimit", *args], capture_output=True,
                          text=True, check=False, timeout=120, env=env)  # fmt: skip


def _ok(*args: str) -> str:
    done = _run(*args)
    assert done.returncode == 0, done.stderr or done.stdout
    return done.stdout


async def test_a_ban_is_listed_and_lifted(stack: Settings) -> None:
    range_ = await ban_by_attack(stack, random_address(v6=True))
    bans = json.loads(_ok("bans", "--json"))["items"]
    (ban,) = [b for b in bans if b["range"] == range_]
    assert ban["reason"] == "failed_logins" and ban["offences"] == 1
    assert range_ in _ok("bans")
    status = json.loads(_ok("status", "--json"))
    assert status["active_bans"] >= 1 and status["recent_trips"][0]["range"] == range_
    table = _ok("status")
    assert "failed_login_accounts" in table and range_ in table

    lifted = json.loads(_ok("unban", range_, "--json"))
    assert lifted == {"range": range_, "lifted": True, "offences_forgotten": False}
    assert range_ not in [b["range"] for b in json.loads(_ok("bans", "--json"))["items"]]
    again = _run("unban", range_)
    assert again.returncode == 1 and f"{range_} is not cooling down" in again.stderr


async def test_an_address_names_its_range(stack: Settings) -> None:
    address = random_address()
    range_ = await ban_by_attack(stack, address)
    assert f"lifted the cool-down of {range_}" in _ok("unban", address, "--forget")


@pytest.mark.parametrize("text", ["not-a-range", "10.0.0.0/40"])
def test_what_is_not_a_range_is_refused_before_any_call(
    stack_settings: Settings, text: str
) -> None:
    done = _run("unban", text, "--api", "http://127.0.0.1:9")
    assert done.returncode == 2, done
    assert "is not an IP network" in done.stderr and text in done.stderr
