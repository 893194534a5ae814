"""The CLI's credentials file and the audit command's --since, without a stack."""

from __future__ import annotations

import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer

from cli.audit import since_timestamp
from cli.credentials import EXPIRY_MARGIN_S, Credentials, CredentialStore, credentials_path

TOKENS = {"access_token": "a.b.c", "refresh_token": "r1", "expires_in": 900, "device_id": "d"}


def test_the_file_is_the_users_only_and_keyed_by_api_url(tmp_path: Path) -> None:
    store = CredentialStore("dev", tmp_path / "streamcore" / "credentials-dev.json")
    store.put(Credentials.from_tokens("http://one:18000/", "a@example.com", TOKENS))
    store.put(Credentials.from_tokens("http://two:18000", "b@example.com", TOKENS))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    one = store.get("http://one:18000")
    assert one is not None and one.email == "a@example.com" and not one.expired
    assert store.remove("http://one:18000") and store.get("http://one:18000") is None
    assert store.get("http://two:18000") is not None
    assert store.remove("http://two:18000") and not store.path.exists()
    assert not store.remove("http://two:18000")
    assert list(store.path.parent.iterdir()) == []  # no temporary file left behind


def test_a_damaged_file_reads_as_signed_out(tmp_path: Path) -> None:
    store = CredentialStore("dev", tmp_path / "credentials-dev.json")
    store.path.write_text("{not json")
    assert store.get("http://one:18000") is None
    store.put(Credentials.from_tokens("http://one:18000", "a@example.com", TOKENS))
    assert store.get("http://one:18000") is not None


def test_expiry_comes_a_little_early() -> None:
    soon = {**TOKENS, "expires_in": EXPIRY_MARGIN_S - 1}
    assert Credentials.from_tokens("http://x", "a@example.com", soon).expired
    assert Credentials.from_tokens("http://x", "a@example.com", TOKENS).expires_at > time.time()


def test_the_path_follows_xdg_config_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert credentials_path("test") == tmp_path / "streamcore" / "credentials-test.json"


def test_since_takes_durations_and_iso_times() -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert since_timestamp("90m", now) == "2026-12-03T10:30:00+00:00"
    assert since_timestamp("2d", now) == "2026-12-01T12:00:00+00:00"
    assert since_timestamp("2026-12-01T08:00:00") == "2026-12-01T08:00:00+00:00"
    with pytest.raises(typer.BadParameter):
        since_timestamp("yesterday")
