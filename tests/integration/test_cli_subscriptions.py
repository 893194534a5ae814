"""`streamcore subscriptions` without the subscriptions service: what it refuses before
calling (exit 2, naming what is wrong) and an API it cannot reach (exit 1, saying where).

Its calls themselves (list, show, events against ``/v1/admin/subscriptions``) run against the
stack's subscriptions service in tests/integration/subscriptions/test_subscriptions_cli.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid

import pytest

from streamcore.settings import Settings

CLI = [sys.executable, "-m", "cli", "subscriptions"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # rich's error box, on one line
    return subprocess.run([*CLI, *args], capture_output=True, text=True, check=False,
                          timeout=60, env=env)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("list", "--state", "Paused"), "not a state: one of Active, GracePeriod"),
        (("list", "--plan", "gold"), "not a plan: one of free"),
        (("show", "not-an-id"), "not a subscription id"),
        (("events", "42"), "not a subscription id"),
    ],
)
def test_bad_usage_is_refused_before_any_call(
    stack_settings: Settings, args: tuple[str, ...], said: str
) -> None:
    result = _run(*args)
    assert result.returncode == 2, result
    assert said in result.stderr, result.stderr


def test_an_unreachable_api_is_said_plainly(stack_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    for args in (("list", "--state", "grace-period", "--plan", "premium"),
                 ("show", str(uuid.uuid4())), ("tick", "--json")):  # fmt: skip
        result = _run(*args, "--api", closed)
        assert result.returncode == 1, result
        assert f"cannot reach the API at {closed}" in result.stderr, result.stderr
