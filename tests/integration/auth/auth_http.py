"""Helpers of the auth service's integration tests: accounts made through the real API."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "a long enough passphrase"


def random_ip() -> str:
    """A client address of the test's own (sent as X-Forwarded-For, which the auth service
    believes from the loopback gateway), so that throttling by IP stays within one test."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def new_email(tag: str = "user") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.org"


@dataclass
class Signed:
    """An account signed in on one device."""

    account_id: str
    email: str
    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def signup(
    http: httpx.Client,
    email: str | None = None,
    password: str = PASSWORD,
    display_name: str = "Tester",
) -> dict[str, Any]:
    response = http.post(
        "/v1/auth/signup",
        json={"email": email or new_email(), "password": password, "display_name": display_name},
    )
    assert response.status_code == 201, response.text
    account: dict[str, Any] = response.json()["account"]
    return account


def login(
    http: httpx.Client,
    email: str,
    password: str = PASSWORD,
    device: str = "laptop",
    ip: str | None = None,
    **headers: str,
) -> httpx.Response:
    return http.post(
        "/v1/auth/login",
        json={"email": email, "password": password, "device_name": device},
        headers={"X-Forwarded-For": ip or random_ip(), **headers},
    )


def signed_in(http: httpx.Client, device: str = "laptop", **signup_fields: Any) -> Signed:
    account = signup(http, **signup_fields)
    response = login(http, account["email"], signup_fields.get("password", PASSWORD), device)
    assert response.status_code == 200, response.text
    return Signed(account["id"], account["email"], response.json())


def wait_for(probe: Callable[[], Any], timeout_s: float = 10.0, what: str = "it") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def audit_kinds(http: httpx.Client, admin: dict[str, str], account_id: str) -> list[str]:
    response = http.get(
        "/v1/admin/audit", params={"account": account_id, "limit": 100}, headers=admin
    )
    assert response.status_code == 200, response.text
    return [event["kind"] for event in response.json()["items"]]
