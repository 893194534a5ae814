"""Access tokens: what verifies, and every forgery the issue names, refused with its code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from streamcore.auth.keys import from_jwks, jwks, public_keys
from streamcore.auth.roles import Role
from streamcore.auth.tokens import ExpiredToken, InvalidToken, UnknownKey, mint, verify
from streamcore.secrets import new_signing_key_pem
from streamcore.settings import AuthSettings


@pytest.fixture
def auth() -> AuthSettings:
    return AuthSettings(signing_keys={"a1": new_signing_key_pem()}, active_key_id="a1")


def _mint(auth: AuthSettings, **overrides: object) -> str:
    values: dict[str, object] = {
        "account_id": uuid.uuid4(), "session_id": uuid.uuid4(), "role": Role.VIEWER,
        "profile_id": uuid.uuid4(), "maturity": "kids",
    }  # fmt: skip
    values.update(overrides)
    token, _ = mint(auth, **values)  # type: ignore[arg-type]
    return token


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def test_a_minted_token_verifies_with_what_it_says(auth: AuthSettings) -> None:
    account, profile = uuid.uuid4(), uuid.uuid4()
    token = _mint(auth, account_id=account, profile_id=profile, role=Role.CREATOR)
    claims = verify(token, public_keys(auth.signing_keys), auth)
    assert (claims.account_id, claims.profile_id, claims.role) == (account, profile, Role.CREATOR)
    assert claims.maturity == "kids" and "tier" not in _claims(token)
    assert claims.expires_at - claims.issued_at == auth.access_ttl_s
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "a1", "typ": "JWT"}


def test_the_jwks_round_trips_and_verifies(auth: AuthSettings) -> None:
    document = json.loads(json.dumps(jwks(auth.signing_keys)))
    assert document["keys"][0]["kty"] == "OKP" and "d" not in document["keys"][0]
    verify(_mint(auth), from_jwks(document), auth)


def test_a_tampered_payload_is_refused(auth: AuthSettings) -> None:
    header, payload, signature = _mint(auth).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["role"] = "admin"
    forged = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    with pytest.raises(InvalidToken) as error:
        verify(forged, public_keys(auth.signing_keys), auth)
    assert error.value.code == "invalid_token"


def test_alg_none_is_refused(auth: AuthSettings) -> None:
    claims = _claims(_mint(auth))
    header = _b64(json.dumps({"alg": "none", "kid": "a1", "typ": "JWT"}).encode())
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    with pytest.raises(InvalidToken, match="EdDSA"):
        verify(unsigned, public_keys(auth.signing_keys), auth)


def test_hs256_signed_with_the_public_key_is_refused(auth: AuthSettings) -> None:
    # Key confusion: a verifier that let the token pick its algorithm would take the public
    # key (which anyone can fetch) as an HMAC secret.
    public = public_keys(auth.signing_keys)["a1"]
    for secret in (
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    ):
        header = _b64(json.dumps({"alg": "HS256", "kid": "a1", "typ": "JWT"}).encode())
        body = _b64(json.dumps(_claims(_mint(auth))).encode())
        mac = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
        with pytest.raises(InvalidToken):
            verify(f"{header}.{body}.{_b64(mac)}", public_keys(auth.signing_keys), auth)


@pytest.mark.parametrize(("field", "value"), [("audience", "other"), ("issuer", "evil")])
def test_another_audience_or_issuer_is_refused(auth: AuthSettings, field: str, value: str) -> None:
    token = _mint(auth.model_copy(update={field: value}))
    with pytest.raises(InvalidToken):
        verify(token, public_keys(auth.signing_keys), auth)


def test_expiry_is_enforced_with_the_leeway(auth: AuthSettings) -> None:
    keys = public_keys(auth.signing_keys)
    just_expired = time.time() - auth.access_ttl_s - auth.leeway_s // 2
    verify(_mint(auth, now=just_expired), keys, auth)  # inside the leeway
    long_expired = time.time() - auth.access_ttl_s - auth.leeway_s - 5
    with pytest.raises(ExpiredToken) as error:
        verify(_mint(auth, now=long_expired), keys, auth)
    assert error.value.code == "token_expired"


def test_a_token_of_an_unknown_key_is_refused(auth: AuthSettings) -> None:
    other = AuthSettings(signing_keys={"zz": new_signing_key_pem()}, active_key_id="zz")
    with pytest.raises(UnknownKey):
        verify(_mint(other), public_keys(auth.signing_keys), auth)
    # The same kid with another key is a bad signature, not a new key.
    impostor = AuthSettings(signing_keys={"a1": new_signing_key_pem()}, active_key_id="a1")
    with pytest.raises(InvalidToken) as error:
        verify(_mint(impostor), public_keys(auth.signing_keys), auth)
    assert type(error.value) is InvalidToken


def test_a_rotated_out_key_still_verifies_its_tokens(auth: AuthSettings) -> None:
    old = _mint(auth)
    rotated = AuthSettings(
        signing_keys={**auth.signing_keys, "a2": new_signing_key_pem()}, active_key_id="a2"
    )
    keys = public_keys(rotated.signing_keys)
    verify(old, keys, rotated)
    assert jwt.get_unverified_header(_mint(rotated))["kid"] == "a2"


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "Bearer x", "e30.e30.e30"])
def test_garbage_is_an_invalid_token(auth: AuthSettings, garbage: str) -> None:
    with pytest.raises(InvalidToken):
        verify(garbage, public_keys(auth.signing_keys), auth)
