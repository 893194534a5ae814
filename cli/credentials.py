"""The tokens `streamcore login` keeps: one file per settings environment, in the user's config
folder (``$XDG_CONFIG_HOME/streamcore/credentials-<env>.json``, else ``~/.config/...``),
readable by its owner only (0600, in a 0700 folder), keyed by the API's URL.

A signed-in person's commands then run with their access token (and are audited as them);
the token is refreshed with the refresh token shortly before it expires.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Refresh this long before the access token's expiry, so that a request never leaves with a
# token that expires on the way.
EXPIRY_MARGIN_S = 30.0


@dataclass(frozen=True)
class Credentials:
    api_url: str
    email: str
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds
    device_id: str | None = None
    profile_id: str | None = None

    @classmethod
    def from_tokens(cls, api_url: str, email: str, body: dict[str, Any]) -> Credentials:
        """From the body of POST /v1/auth/login or /v1/auth/refresh."""
        return cls(
            api_url=api_url, email=email, access_token=body["access_token"],
            refresh_token=body["refresh_token"], expires_at=time.time() + body["expires_in"],
            device_id=body.get("device_id"), profile_id=body.get("profile_id"),
        )  # fmt: skip

    @property
    def expired(self) -> bool:
        return time.time() > self.expires_at - EXPIRY_MARGIN_S


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "streamcore"


def credentials_path(env: str) -> Path:
    return config_dir() / f"credentials-{env}.json"


class CredentialStore:
    """The credentials file of one environment. Every write replaces the file atomically."""

    def __init__(self, env: str, path: Path | None = None) -> None:
        self.path = path or credentials_path(env)

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}  # unreadable or damaged: as if signed out (the next login rewrites it)
        return data if isinstance(data, dict) else {}

    def get(self, api_url: str) -> Credentials | None:
        entry = self._read().get(_key(api_url))
        if not isinstance(entry, dict):
            return None
        try:
            return Credentials(**entry)
        except TypeError:
            return None

    def put(self, credentials: Credentials) -> None:
        data = self._read()
        data[_key(credentials.api_url)] = asdict(credentials)
        self._write(data)

    def remove(self, api_url: str) -> bool:
        data = self._read()
        found = data.pop(_key(api_url), None) is not None
        if not data:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        elif found:
            self._write(data)
        return found

    def _write(self, data: dict[str, dict[str, Any]]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        # Created 0600 from the start: the tokens are never readable by others, not even briefly.
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                json.dump(data, handle, indent=2)
            temporary.replace(self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise


def _key(api_url: str) -> str:
    return api_url.rstrip("/")
