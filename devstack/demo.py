"""The local stack's demo account: what `make run` (``streamcore up --ingest``) prints beside the
player URLs, so that they play once signed in.

Created through the auth service's HTTP API with the stack's service account key (``POST
/v1/admin/accounts``), as an operator would, never by writing its tables. Idempotent: the
password is chosen here on the first run and kept in ``<data_dir>/demo-account.json`` (0600,
beside the generated secrets), so every later run finds the account and prints the same one.
It gets two profiles, an adult one (made with the account) and a kids one, to choose between
in the player, and a Premium subscription (paid with the local billing provider's test card),
so that every sample plays at every rendition; a subscription it already has is left as it is.

Beside it, an operator (role admin, ``ops@example.com``, its password kept the same way in
``<data_dir>/demo-operator.json``) to sign in to the admin dashboard with.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from streamcore.settings import Settings

EMAIL = "demo@example.com"
DISPLAY_NAME = "Demo"
PLAN = "premium"
# The local billing provider's card that always pays (docs/billing.md).
PAYMENT_METHOD = "pm_card_visa"
PROFILES = ({"name": "Demo", "maturity": "adult", "language": "en"},
            {"name": "Kids", "maturity": "kids", "language": "en"})  # fmt: skip
FILE_NAME = "demo-account.json"
OPERATOR_EMAIL = "ops@example.com"
OPERATOR_FILE_NAME = "demo-operator.json"


class DemoAccountError(Exception):
    pass


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str | None  # None: the account exists, but not from this data folder
    created: bool


def _password(settings: Settings, file_name: str, email: str) -> str:
    """The account's saved password, or a new one, saved before the account exists (never lost)."""
    if settings.env == "prod":
        raise DemoAccountError("no demo account in production settings")
    path = settings.stack.data_dir / file_name
    password = _saved_password(path)
    if password is None:
        password = secrets.token_urlsafe(12)
        _save(path, {"email": email, "password": password})
    return password


def _admin_client(settings: Settings) -> httpx.Client:
    key = settings.auth.service_key().get_secret_value()
    return httpx.Client(
        base_url=settings.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def ensure_operator(settings: Settings) -> DemoAccount:
    """The demo operator (role admin), created if the auth service has none with its email."""
    password = _password(settings, OPERATOR_FILE_NAME, OPERATOR_EMAIL)
    with _admin_client(settings) as http:
        try:
            created = _find(http, OPERATOR_EMAIL) is None
            if created:
                _create(http, OPERATOR_EMAIL, "Operator", "admin", password)
            ok = _signs_in(settings, OPERATOR_EMAIL, password)
        except httpx.HTTPError as exc:
            raise DemoAccountError(f"the auth service did not answer: {exc}") from None
    return DemoAccount(email=OPERATOR_EMAIL, password=password if ok else None, created=created)


def ensure(settings: Settings) -> DemoAccount:
    """The demo account, created if the auth service has none with its email."""
    password = _password(settings, FILE_NAME, EMAIL)
    with _admin_client(settings) as http:
        try:
            created = _find(http, EMAIL) is None
            if created:
                _create(http, EMAIL, DISPLAY_NAME, "viewer", password)
            with _signed_in(settings, password) as person:
                if person is not None:
                    _add_profiles(person)
                    _subscribe(person)
                known = person is not None
        except httpx.HTTPError as exc:
            raise DemoAccountError(f"the auth service did not answer: {exc}") from None
    return DemoAccount(email=EMAIL, password=password if known else None, created=created)


def _saved_password(path: Path) -> str | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    password = saved.get("password") if isinstance(saved, dict) else None
    return password if isinstance(password, str) and password else None


def _save(path: Path, values: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)


def _checked(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 400:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise DemoAccountError(f"{what}: HTTP {response.status_code}: {message}")
    return response.json() if response.content else None


def _find(http: httpx.Client, email: str) -> dict[str, Any] | None:
    page = _checked(http.get("/v1/admin/accounts", params={"q": email}), "listing accounts")
    return next((a for a in page["items"] if a["email"] == email), None)


def _create(http: httpx.Client, email: str, name: str, role: str, password: str) -> None:
    body = {"email": email, "display_name": name, "role": role, "password": password}
    response = http.post("/v1/admin/accounts", json=body)
    if response.status_code != 409:  # 409: created meanwhile (another `up`), as good
        _checked(response, f"creating the demo account {email}")


def _add_profiles(http: httpx.Client) -> None:
    """The profiles it lacks (the first one comes with the account)."""
    have = {p["name"] for p in _checked(http.get("/v1/profiles"), "listing profiles")["items"]}
    for profile in PROFILES:
        if profile["name"] not in have and len(have) < len(PROFILES):
            _checked(http.post("/v1/profiles", json=profile), "creating a profile")
            have.add(profile["name"])


def _subscribe(http: httpx.Client) -> None:
    """A Premium subscription, unless it has one (of any state but Expired)."""
    current = http.get("/v1/subscription")
    if current.status_code == 200 and current.json()["state"] != "Expired":
        return
    if current.status_code not in (200, 404):
        _checked(current, "reading the demo account's subscription")
    response = http.post("/v1/subscription", json={"plan": PLAN, "payment_method": PAYMENT_METHOD})
    if response.status_code != 409:  # 409: subscribed meanwhile (another `up`), as good
        _checked(response, "subscribing the demo account")


def _signs_in(settings: Settings, email: str, password: str) -> bool:
    """Whether `password` is the account's (signed out again at once)."""
    with httpx.Client(base_url=settings.api_url, timeout=30) as http:
        body = {"email": email, "password": password, "device_name": "streamcore up"}
        response = http.post("/v1/auth/login", json=body)
        if response.status_code == 200:
            token = response.json()["access_token"]
            http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
        return response.status_code == 200


@contextmanager
def _signed_in(settings: Settings, password: str) -> Iterator[httpx.Client | None]:
    """A client signed in as the demo account (None if the password is not its own), signed
    out again afterwards, so that no device session is left behind."""
    with httpx.Client(base_url=settings.api_url, timeout=30) as http:
        body = {"email": EMAIL, "password": password, "device_name": "streamcore up"}
        response = http.post("/v1/auth/login", json=body)
        if response.status_code == 401:
            yield None
            return
        token = _checked(response, "signing in as the demo account")["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        try:
            yield http
        finally:
            http.post("/v1/auth/logout")
