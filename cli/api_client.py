"""The CLI's client for the catalog API and the streaming service (playback URLs): the CLI
does what a user could do over HTTP.

Behind the gateway one URL reaches both (``STREAMCORE_API_URL``, the gateway's entry);
without it, each service's own address from the settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from streamcore.settings import Settings

_CHUNK = 1024 * 1024


class ApiClientError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status}, {code})")
        self.status, self.code, self.message = status, code, message


class ApiClient:
    def __init__(
        self,
        settings: Settings,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        streaming_url: str | None = None,
    ):
        keys = [account.key for account in settings.auth.service_accounts.values()]
        # Both services are behind the gateway: one entry point for every call.
        entry = base_url or os.environ.get("STREAMCORE_API_URL") or settings.api_url
        self.base_url = entry.rstrip("/")
        self.streaming_url = (streaming_url or entry).rstrip("/")
        key = (
            api_key
            or os.environ.get("STREAMCORE_API_KEY")
            or (keys[0].get_secret_value() if keys else "")
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(30.0, connect=5.0),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(
        self, method: str, path: str, *, base_url: str | None = None, **kwargs: Any
    ) -> Any:
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
            raise ApiClientError(response.status_code, code, message)
        return response.json()

    def upload(
        self, path: Path, title: str | None, on_bytes: Callable[[int], None]
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

    def import_titles(self, titles: list[dict[str, Any]]) -> dict[str, Any]:
        return self._request("POST", "/v1/titles/batch", json={"titles": titles})

    def titles(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._request("GET", "/v1/titles", params=params)

    def title(self, title_id: str) -> dict[str, Any]:
        return self._request("GET", f"/v1/titles/{quote(title_id)}")
