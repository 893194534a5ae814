"""Signed URL tokens: what they open, for how long, for whom."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from streamcore import signing

KEYS = {"k1": SecretStr("first key material"), "k2": SecretStr("second key material")}
SCOPE = "/assets/2b1c/v1/"
NOW = 1_800_000_000


def sign(**kw: object) -> str:
    return signing.sign(
        KEYS, "k1", kw.pop("scope", SCOPE), ttl_s=kw.pop("ttl_s", 600), now=NOW, **kw
    )  # type: ignore[arg-type]


def test_a_token_opens_its_scope_and_nothing_beside_it() -> None:
    token = sign()
    assert signing.verify(token, SCOPE + "master.m3u8", KEYS, now=NOW).key_id == "k1"
    assert signing.verify(token, SCOPE + "video/720p/seg_00001.m4s", KEYS, now=NOW)
    for other in (
        "/assets/2b1c/v2/master.m3u8",
        "/assets/2b1cx/v1/master.m3u8",
        "/assets/master.m3u8",
    ):
        with pytest.raises(signing.TokenError):
            signing.verify(token, other, KEYS, now=NOW)


def test_an_exact_path_scope_opens_only_that_path() -> None:
    token = sign(scope=SCOPE + "master.m3u8")
    signing.verify(token, SCOPE + "master.m3u8", KEYS, now=NOW)
    with pytest.raises(signing.TokenError):
        signing.verify(token, SCOPE + "master.m3u8x", KEYS, now=NOW)


def test_expiry_and_not_before_allow_the_configured_skew() -> None:
    token = sign(ttl_s=60, not_before=NOW + 100)
    with pytest.raises(signing.TokenNotYetValid):
        signing.verify(token, SCOPE + "a.m4s", KEYS, now=NOW + 60, skew_s=30)
    signing.verify(token, SCOPE + "a.m4s", KEYS, now=NOW + 71, skew_s=30)
    expired = sign(ttl_s=60)
    signing.verify(expired, SCOPE + "a.m4s", KEYS, now=NOW + 89, skew_s=30)
    with pytest.raises(signing.TokenExpired):
        signing.verify(expired, SCOPE + "a.m4s", KEYS, now=NOW + 91, skew_s=30)


def test_a_token_bound_to_an_address_opens_only_for_it() -> None:
    token = sign(client_ip="203.0.113.9")
    signing.verify(token, SCOPE + "a.m4s", KEYS, now=NOW, client_ip="203.0.113.9")
    with pytest.raises(signing.TokenError, match="another client"):
        signing.verify(token, SCOPE + "a.m4s", KEYS, now=NOW, client_ip="203.0.113.10")


def test_tampering_and_unknown_keys_are_refused() -> None:
    token = sign()
    payload, mac = token.split(".")
    widened = signing.sign({"k1": SecretStr("guess")}, "k1", "/assets/", ttl_s=600, now=NOW)
    cases = [
        f"{payload}.{mac[:-2]}AA",
        f"{widened.split('.')[0]}.{mac}",  # another scope under the original MAC
        signing.sign({"k9": SecretStr("x")}, "k9", SCOPE, ttl_s=600, now=NOW),
        "not-a-token",
        ".",
    ]
    for bad in cases:
        with pytest.raises(signing.TokenError) as error:
            signing.verify(bad, SCOPE + "a.m4s", KEYS, now=NOW)
        assert error.value.code == "bad_signature"


def test_rotation_keeps_old_tokens_valid_while_their_key_is_listed() -> None:
    old = signing.sign(KEYS, "k2", SCOPE, ttl_s=600, now=NOW)
    signing.verify(old, SCOPE + "a.m4s", KEYS, now=NOW)
    with pytest.raises(signing.TokenError):
        signing.verify(old, SCOPE + "a.m4s", {"k1": KEYS["k1"]}, now=NOW)


@pytest.mark.parametrize(
    "path",
    ["/assets/a/../b/x.m4s", "/assets/a//x.m4s", "/assets/a/./x.m4s", "assets/a/x.m4s",
     "/assets/a/x.m4s\x00", "/assets/a/%2e%2e/x"],
)  # fmt: skip
def test_only_canonical_paths_are_accepted(path: str) -> None:
    assert not signing.is_canonical(path)
    with pytest.raises(signing.TokenError):
        signing.verify(sign(scope="/assets/"), path, KEYS, now=NOW)


def test_scopes_must_be_canonical_to_be_signed() -> None:
    with pytest.raises(ValueError, match="canonical"):
        signing.sign(KEYS, "k1", "/assets/../", ttl_s=60)


def test_a_session_id_is_a_signed_claim_that_opens_nothing() -> None:
    sid = "3f0c2a9e-5b1d-4e7f-8a6c-2d9e1b0f4a3c"
    token = sign(session_id=sid)
    assert signing.verify(token, SCOPE + "master.m3u8", KEYS, now=NOW).session_id == sid
    assert signing.verify(sign(), SCOPE + "master.m3u8", KEYS, now=NOW).session_id is None
    # The claim neither widens the scope...
    with pytest.raises(signing.TokenError):
        signing.verify(token, "/assets/other/v1/master.m3u8", KEYS, now=NOW)
    # ...nor can it be changed without the key.
    payload, _, mac = token.partition(".")
    claims = json.loads(signing._unb64(payload))
    claims["sid"] = "00000000-0000-4000-8000-000000000000"
    forged = signing._b64(json.dumps(claims, separators=(",", ":")).encode())
    with pytest.raises(signing.TokenError, match="bad signature"):
        signing.verify(f"{forged}.{mac}", SCOPE + "master.m3u8", KEYS, now=NOW)
    with pytest.raises(ValueError, match="session id"):
        sign(session_id="not/a path segment")
