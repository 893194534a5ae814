"""Brute force: failed sign-ins are throttled per account and per client IP, with growing
delays (429 too_many_attempts with Retry-After), and recorded."""

from __future__ import annotations

import time

import httpx
import pytest

from streamcore.settings import Settings
from tests.integration.auth.auth_http import (
    PASSWORD,
    audit_kinds,
    login,
    new_email,
    random_ip,
    signup,
    wait_for,
)

pytestmark = pytest.mark.stack


def _throttled(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "too_many_attempts"
    return int(response.headers["Retry-After"])


def test_failures_for_one_account_are_throttled_from_any_ip(
    stack: Settings, http: httpx.Client, admin: dict[str, str]
) -> None:
    account = signup(http)
    free = stack.auth.login_free_failures
    for _ in range(free):  # each from another address: only the account's count grows
        assert login(http, account["email"], "wrong password", ip=random_ip()).status_code == 401
    first = _throttled(login(http, account["email"], "wrong password", ip=random_ip()))
    assert first >= stack.auth.login_base_delay_s
    # While blocked even the right password waits, from anywhere.
    assert _throttled(login(http, account["email"], PASSWORD, ip=random_ip())) <= first
    time.sleep(first + 0.2)
    # The next failure doubles the wait.
    second = _throttled(login(http, account["email"], "wrong again", ip=random_ip()))
    assert second >= 2 * stack.auth.login_base_delay_s
    time.sleep(second + 0.2)
    assert login(http, account["email"], PASSWORD, ip=random_ip()).status_code == 200
    # Success clears the account's count: the free failures are free again.
    assert login(http, account["email"], "wrong password", ip=random_ip()).status_code == 401
    kinds = wait_for(
        lambda: (
            (k := audit_kinds(http, admin, account["id"])).count("login_failed") >= free + 2 and k
        ),
        what="the failures in the audit log",
    )
    assert "login" in kinds


def test_failures_from_one_ip_are_throttled_for_every_account(
    stack: Settings, http: httpx.Client
) -> None:
    ip, free = random_ip(), stack.auth.login_free_failures
    for _ in range(free):  # another (unknown) address each time: only the IP's count grows
        assert login(http, new_email(), "wrong password", ip=ip).status_code == 401
    _throttled(login(http, new_email(), "wrong password", ip=ip))
    account = signup(http)
    _throttled(login(http, account["email"], PASSWORD, ip=ip))
    assert login(http, account["email"], PASSWORD, ip=random_ip()).status_code == 200
