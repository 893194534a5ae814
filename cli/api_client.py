"""The CLI's client for the platform's HTTP API (catalog, streaming, auth): the CLI does what a
user could do over HTTP.

Behind the gateway one URL reaches every service (``STREAMCORE_API_URL``, the gateway's entry).

Who the client is, first match wins: an explicit key, ``STREAMCORE_API_KEY``, the person signed
in with `streamcore login` for this URL (cli/credentials.py: their access token, refreshed when
it is about to expire, so that their commands are audited as theirs), else the settings' first
service account (scripts, CI and the local stack).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from cli.credentials import Credentials, CredentialStore
from streamcore.settings import Settings

_CHUNK = 1024 * 1024
# A caption file's Content-Type by its extension; the API tells the formats apart by content.
_CAPTION_TYPES = {".vtt": "text/vtt", ".srt": "application/x-subrip"}
# A person's token the API refuses with one of these is refreshed once, then the call retried.
_STALE_TOKEN = ("token_expired", "invalid_token")


class ApiClientError(Exception):
    def __init__(
        self, status: int, code: str, message: str, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message = status, code, message
        # A 429's or 503's Retry-After, when it gave one in seconds.
        self.retry_after_s = retry_after_s


class SignedOut(ApiClientError):
    """The stored sign-in cannot be refreshed any more (signed out elsewhere, expired)."""

    def __init__(self, reason: str) -> None:
        message = f"your sign-in has ended ({reason}): run `streamcore login`"
        super().__init__(401, "signed_out", message)


class ApiClient:
    def __init__(
        self,
        settings: Settings,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        streaming_url: str | None = None,
        as_person: bool = True,
    ):
        """`as_person=False`: never the signed-in person (the stack's own chores, bootstrap)."""
        keys = [account.key for account in settings.auth.service_accounts.values()]
        # Every service is behind the gateway: one entry point for every call.
        entry = base_url or os.environ.get("STREAMCORE_API_URL") or settings.api_url
        self.base_url = entry.rstrip("/")
        self.streaming_url = (streaming_url or entry).rstrip("/")
        self.store = CredentialStore(settings.env)
        key = api_key or os.environ.get("STREAMCORE_API_KEY")
        self.person = self.store.get(self.base_url) if as_person and not key else None
        self._key = key or (keys[0].get_secret_value() if keys else "")
        self._service_accounts = settings.auth.service_accounts
        self._http = httpx.Client(base_url=self.base_url, timeout=httpx.Timeout(30.0, connect=5.0))

    @property
    def has_key(self) -> bool:
        return bool(self._key)

    def actor(self) -> str:
        """Who the calls are made as, as the audit names callers: ``account:<id>`` (asked of
        the API), ``service:<name>`` (a service account's key), else ``cli``."""
        if self.person is not None:
            return f"account:{self.me()['id']}"
        for name, account in self._service_accounts.items():
            if hmac.compare_digest(account.key.get_secret_value(), self._key):
                return f"service:{name}"
        return "cli"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bearer(self) -> dict[str, str]:
        if self.person is not None:
            if self.person.expired:
                self.refresh()
            assert self.person is not None
            return {"Authorization": f"Bearer {self.person.access_token}"}
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _request(
        self,
        method: str,
        path: str,
        *,
        base_url: str | None = None,
        anonymous: bool = False,
        **kwargs: Any,
    ) -> Any:
        headers = {**({} if anonymous else self._bearer()), **kwargs.pop("headers", {})}
        try:
            return self._send(method, path, base_url=base_url, headers=headers, **kwargs)
        except ApiClientError as exc:
            retry = (
                exc.status == 401 and exc.code in _STALE_TOKEN and self.person is not None
                and not anonymous and not isinstance(kwargs.get("content"), Iterator)
            )  # fmt: skip
            if not retry:
                raise
        self.refresh()
        headers.update(self._bearer())
        return self._send(method, path, base_url=base_url, headers=headers, **kwargs)

    def _send(self, method: str, path: str, *, base_url: str | None, **kwargs: Any) -> Any:
        base = base_url or self.base_url
        try:
            response = self._http.request(method, f"{base}{path}", **kwargs)
        except httpx.TransportError as exc:
            raise ApiClientError(
                0, "unreachable", f"cannot reach the API at {base}: {exc}"
            ) from None
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = error["code"], error["message"]
            except (ValueError, KeyError, TypeError):
                code, message = "http_error", response.text[:200]
            raise ApiClientError(
                response.status_code, code, message, _seconds(response.headers.get("Retry-After"))
            )
        return None if response.status_code == 204 else response.json()

    # -- signing in ------------------------------------------------------------------------

    def login(self, email: str, password: str, device_name: str) -> Credentials:
        """Sign in and store the tokens (0600) for this API URL."""
        body = {"email": email, "password": password, "device_name": device_name}
        tokens = self._request("POST", "/v1/auth/login", json=body, anonymous=True)
        self.person = Credentials.from_tokens(self.base_url, email, tokens)
        self.store.put(self.person)
        return self.person

    def refresh(self) -> None:
        """New tokens for the stored sign-in (the refresh token rotates); SignedOut if refused."""
        assert self.person is not None
        person, body = self.person, {"refresh_token": self.person.refresh_token}
        try:
            tokens = self._send("POST", "/v1/auth/refresh", base_url=None, json=body)
        except ApiClientError as exc:
            if exc.status not in (400, 401):
                raise
            self.store.remove(self.base_url)
            self.person = None
            raise SignedOut(exc.message) from None
        self.person = Credentials.from_tokens(self.base_url, person.email, tokens)
        self.store.put(self.person)

    def logout(self) -> bool:
        """Sign this device out at the API (best effort) and forget the tokens; False if there
        was no sign-in stored."""
        if self.person is None:
            return False
        try:
            self._request("POST", "/v1/auth/logout")
        except ApiClientError as exc:
            if exc.status == 0:  # the API is down: the tokens are still forgotten below
                raise
        finally:
            self.store.remove(self.base_url)
            self.person = None
        return True

    def me(self) -> dict[str, Any]:
        return self._request("GET", "/v1/me")

    # -- accounts and audit (admins) ---------------------------------------------------------

    def accounts(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/v1/admin/accounts", params=params)

    def create_account(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", "/v1/admin/accounts", json=body)

    def update_account(self, account_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("PATCH", f"/v1/admin/accounts/{quote(account_id)}", json=body)

    def audit(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/v1/admin/audit", params=params)

    # -- analytics: alerts (admins) -----------------------------------------------------------

    def analytics_alerts(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/v1/analytics/alerts", params=params)

    def evaluate_alerts(self) -> dict[str, Any]:
        return self._request("POST", "/v1/analytics/alerts/evaluate")

    def resolve_profiles(
        self, items: list[dict[str, str]], *, create_missing: bool = False
    ) -> dict[str, Any]:
        """(account_email, profile_name) pairs to ids, in order (at most 500 at a time)."""
        body = {"items": items, "create_missing": create_missing}
        return self._request("POST", "/v1/admin/profiles/resolve", json=body)

    # -- watch history (admins) --------------------------------------------------------------

    def import_history(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Viewings written by the streaming service (at most 1000 at a time)."""
        return self._request(
            "POST", "/v1/admin/history", base_url=self.streaming_url, json={"items": items}
        )

    # -- rate limits (admins) ----------------------------------------------------------------

    def ratelimit_status(self) -> dict[str, Any]:
        return self._request("GET", "/v1/admin/ratelimit")

    def bans(self) -> dict[str, Any]:
        return self._request("GET", "/v1/admin/ratelimit/bans")

    def unban(self, range_: str, *, forget: bool = False) -> None:
        # The range's slash stays a slash: the route takes the rest of the path.
        path = f"/v1/admin/ratelimit/bans/{quote(range_, safe='/:')}"
        self._request("DELETE", path, params={"forget": "true"} if forget else None)

    # -- analytics (admins) ------------------------------------------------------------------

    def analytics(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /v1/analytics/{path}`` (qoe, top, popularity, concurrent)."""
        return self._request("GET", f"/v1/analytics/{path}", params=params)

    def analytics_rollup(self, since: str, until: str | None) -> dict[str, Any]:
        body = {"since": since, **({"until": until} if until else {})}
        return self._request("POST", "/v1/analytics/rollups", json=body)

    # -- assets, playback and titles ---------------------------------------------------------

    def upload(
        self,
        path: Path,
        title: str | None,
        on_bytes: Callable[[int], None],
        audio_languages: list[str] | None = None,
    ) -> dict[str, Any]:
        """Stream the file as the request body; `on_bytes` is told of each chunk sent."""
        size = path.stat().st_size

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    on_bytes(len(chunk))
                    yield chunk

        headers = {
            "Content-Type": "application/octet-stream",
            # An explicit length: the API can refuse an oversized upload before storing a byte.
            "Content-Length": str(size),
            "X-Filename": quote(path.name),
        }
        if title:
            headers["X-Title"] = quote(title)
        if audio_languages:
            headers["X-Audio-Languages"] = ",".join(audio_languages)
        return self._request(
            "POST",
            "/v1/assets",
            content=chunks(),
            headers=headers,
            timeout=httpx.Timeout(None, connect=5.0),
        )

    def asset(self, asset_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/assets/{quote(asset_id)}")

    def assets(self, *, limit: int, status: str | None, cursor: str | None) -> dict[str, Any]:
        params = {
            "limit": limit,
            **({"status": status} if status else {}),
            **({"cursor": cursor} if cursor else {}),
        }
        return self._request("GET", "/v1/assets", params=params)

    def playback(self, asset_id: str, ttl: int | None) -> dict[str, Any]:
        params = {"ttl": ttl} if ttl else {}
        return self._request(
            "GET", f"/v1/playback/{quote(asset_id)}", base_url=self.streaming_url, params=params
        )

    def reprocess(self, asset_id: str, *, force: bool = False) -> dict[str, Any]:
        params = {"force": "true"} if force else None
        return self._request("POST", f"/v1/assets/{quote(asset_id)}/reprocess", params=params)

    def delete(self, asset_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/v1/assets/{quote(asset_id)}")

    def add_caption(
        self, asset_id: str, path: Path, *, language: str, kind: str, label: str | None
    ) -> dict[str, Any]:
        """Stream a WebVTT or SRT file as the body: the API checks it before storing it."""

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    yield chunk

        headers = {
            "Content-Type": _CAPTION_TYPES.get(path.suffix.lower(), "application/octet-stream"),
            "Content-Length": str(path.stat().st_size),  # refused at once above the limit
            "X-Filename": quote(path.name),
        }
        params = {"lang": language, "kind": kind, **({"label": label} if label else {})}
        return self._request("POST", f"/v1/assets/{quote(asset_id)}/captions", params=params,
                             content=chunks(), headers=headers)  # fmt: skip

    def captions(self, asset_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/assets/{quote(asset_id)}/captions")

    def remove_caption(self, asset_id: str, language: str, kind: str) -> dict[str, Any]:
        path = f"/v1/assets/{quote(asset_id)}/captions/{quote(language, safe='')}/{quote(kind)}"
        return self._request("DELETE", path)

    def import_titles(self, titles: list[dict[str, Any]]) -> dict[str, Any]:
        return self._request("POST", "/v1/titles/batch", json={"titles": titles})

    def titles(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/v1/titles", params=params)

    def title(self, title_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/titles/{quote(title_id)}")

    def update_title(self, title_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("PATCH", f"/v1/titles/{quote(title_id)}", json=body)

    # -- subscriptions (admins) --------------------------------------------------------------

    def subscriptions(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/v1/admin/subscriptions", params=params)

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/admin/subscriptions/{quote(subscription_id)}")

    def subscription_events(self, subscription_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/admin/subscriptions/{quote(subscription_id)}/events")

    def subscriptions_tick(self) -> dict[str, Any]:
        return self._request("POST", "/v1/admin/subscriptions/tick")


def _seconds(value: str | None) -> float | None:
    """Retry-After in seconds (its HTTP-date form is not used by our services)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
