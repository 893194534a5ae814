"""Client addresses behind the gateway, maturity levels, and older secrets files upgraded."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from multidict import CIMultiDict

from streamcore import secrets
from streamcore.auth.maturity import UnknownMaturity, allowed_certifications, may_see
from streamcore.settings import AuthSettings, Settings
from streamcore.web.client_ip import client_ip


def _request(peer: str, forwarded: str | None) -> web.Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    request = make_mocked_request("GET", "/", headers=headers)
    # make_mocked_request has no socket; the peer is what aiohttp would read from one.
    return request.clone(remote=peer)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", None, "203.0.113.9"),  # no proxy: the socket
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),  # untrusted peer: header ignored
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),  # through the gateway
        ("127.0.0.1", "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # a spoofed left part
        ("127.0.0.1", "198.51.100.1, 127.0.0.1", "198.51.100.1"),  # trusted hops skipped
        ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_client_ip_believes_forwarded_for_only_from_trusted_proxies(
    settings: Settings, peer: str, forwarded: str | None, expected: str
) -> None:
    assert client_ip(_request(peer, forwarded), settings) == expected


def test_every_forwarded_for_line_counts(settings: Settings) -> None:
    request = make_mocked_request(
        "GET", "/", headers=CIMultiDict([("X-Forwarded-For", "6.6.6.6"),
                                         ("X-Forwarded-For", "198.51.100.1")]),
    ).clone(remote="127.0.0.1")  # fmt: skip
    assert client_ip(request, settings) == "198.51.100.1"


def test_maturity_levels_include_the_ones_before() -> None:
    auth = AuthSettings()
    kids = allowed_certifications(auth, "kids")
    teen = allowed_certifications(auth, "teen")
    assert kids is not None and teen is not None and kids < teen
    assert allowed_certifications(auth, "adult") is None
    assert may_see(auth, "kids", "G") and not may_see(auth, "kids", "PG-13")
    assert may_see(auth, "teen", "PG-13") and not may_see(auth, "teen", "R")
    # No certification, or one nobody listed, is adult content.
    assert not may_see(auth, "teen", None) and not may_see(auth, "teen", "X-UNKNOWN")
    assert may_see(auth, "adult", None) and may_see(auth, None, "NC-17")
    with pytest.raises(UnknownMaturity):
        allowed_certifications(auth, "toddler")


def test_an_older_secrets_file_gains_auth_keys_and_keeps_its_own(tmp_path: Path) -> None:
    old = {
        "catalog_api": {"api_keys": ["old-key"]},
        "origin": {"signing_keys": {"k1": "s"}, "active_key_id": "k1"},
        "postgres": {"password": "p"},
    }
    path = tmp_path / secrets.FILE_NAME
    path.write_text(yaml.safe_dump(old))
    values = secrets.load_or_create(tmp_path)
    assert values["auth"]["service_accounts"] == {"ci-1": {"key": "old-key", "role": "admin"}}
    assert "catalog_api" not in values
    assert values["origin"] == old["origin"] and values["postgres"] == old["postgres"]
    assert values["auth"]["active_key_id"] in values["auth"]["signing_keys"]
    assert path.stat().st_mode & 0o777 == 0o600
    # Upgraded once: read again, nothing changes (the generated key is the one kept).
    assert secrets.load_or_create(tmp_path) == values == yaml.safe_load(path.read_text())


def test_an_operators_signing_keys_are_never_widened(tmp_path: Path) -> None:
    path = tmp_path / secrets.FILE_NAME
    mine = {"signing_keys": {"mine": "pem"}, "active_key_id": "mine"}
    path.write_text(yaml.safe_dump({"auth": mine}))
    values = secrets.load_or_create(tmp_path)
    assert values["auth"]["signing_keys"] == {"mine": "pem"}
