"""Signing up, in and out through the gateway, and every way an access token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from streamcore.auth.keys import public_keys
from streamcore.auth.roles import Role
from streamcore.auth.tokens import mint, verify
from streamcore.settings import Settings
from tests.integration.auth.auth_http import PASSWORD, login, new_email, signed_in, signup

pytestmark = pytest.mark.stack


def test_sign_up_in_refresh_me_and_out(stack: Settings, http: httpx.Client) -> None:
    email = new_email()
    account = signup(http, email, display_name="Ann")
    assert account["email"] == email and account["role"] == "viewer"
    assert "tier" not in account  # what it may play is its subscription's
    response = login(http, email, device="kitchen tablet", **{"User-Agent": "TabletOS/1"})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == stack.auth.access_ttl_s
    claims = verify(tokens["access_token"], public_keys(stack.auth.signing_keys), stack.auth)
    assert str(claims.account_id) == account["id"] and str(claims.session_id) == tokens["device_id"]
    assert str(claims.profile_id) == tokens["profile_id"] and claims.maturity == "adult"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}

    me = http.get("/v1/me", headers=bearer)
    assert me.status_code == 200, me.text
    assert me.json() | {"profile_id": None} == {
        **account,
        "profile_id": None,
        "device_id": tokens["device_id"],
    }
    assert me.json()["profile_id"] == tokens["profile_id"]
    (profile,) = http.get("/v1/profiles", headers=bearer).json()["items"]
    assert (profile["name"], profile["maturity"], profile["language"]) == ("Ann", "adult", "en")

    refreshed = http.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    again = refreshed.json()
    assert again["refresh_token"] != tokens["refresh_token"]
    assert again["device_id"] == tokens["device_id"] and again["profile_id"] == profile["id"]

    out = http.post("/v1/auth/logout", headers={"Authorization": f"Bearer {again['access_token']}"})
    assert out.status_code == 204
    dead = http.post("/v1/auth/refresh", json={"refresh_token": again["refresh_token"]})
    assert dead.status_code == 401 and dead.json()["error"]["code"] == "invalid_refresh_token"


def test_emails_are_normalised_and_unique(http: httpx.Client) -> None:
    local = f"Mixed.Case-{uuid.uuid4().hex[:8]}"
    account = signup(http, f"  {local}@Example.ORG ")
    assert account["email"] == f"{local.lower()}@example.org"
    # Full-width letters are the same address after NFKC.
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalpha() else c for c in local.upper())
    taken = http.post(
        "/v1/auth/signup",
        json={"email": f"{fullwidth}@example.org", "password": PASSWORD, "display_name": "B"},
    )
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "email_taken"
    assert login(http, f"{local.upper()}@EXAMPLE.org").status_code == 200
    bad = http.post(
        "/v1/auth/signup", json={"email": "not an email", "password": PASSWORD, "display_name": "B"}
    )
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "email"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("seven77", "password_too_short"),
        ("x" * 1025, "password_too_long"),
        ("password123", "password_too_common"),
    ],
)
def test_a_password_the_policy_refuses_is_a_400_with_its_code(
    http: httpx.Client, password: str, code: str
) -> None:
    response = http.post(
        "/v1/auth/signup", json={"email": new_email(), "password": password, "display_name": "C"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"] == [
        {"field": "password", "message": response.json()["error"]["details"][0]["message"]}
    ]


def test_a_long_passphrase_with_any_characters_is_fine(http: httpx.Client) -> None:
    passphrase = "ünïcödé 🎬 " * 60 + "end"
    account = signup(http, password=passphrase)
    assert login(http, account["email"], passphrase).status_code == 200
    assert login(http, account["email"], passphrase + "x").status_code == 401


def test_wrong_credentials_are_one_401(http: httpx.Client) -> None:
    account = signup(http)
    for email, password in ((account["email"], "wrong password!"), (new_email(), PASSWORD)):
        response = login(http, email, password)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_credentials"


# -- every token refused at a protected endpoint --------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, object], payload: dict[str, object]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def _payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    loaded: dict[str, object] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


def _forgeries(stack: Settings, token: str) -> dict[str, tuple[str, str]]:
    """name -> (token, the code it must be refused with)."""
    a = stack.auth
    kid = a.active_key_id
    payload = _payload(token)
    header, _, signature = token.split(".")
    tampered = f"{header}.{_b64(json.dumps({**payload, 'role': 'admin'}).encode())}.{signature}"
    none = _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, payload) + "."
    # HS256 keyed with the public key's PEM (key confusion: a verifier that lets the token
    # pick the algorithm would check the HMAC with the key it has, the public one).
    public_pem = public_keys(a.signing_keys)[str(kid)].public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, payload)
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    confused = f"{signing_input}.{_b64(mac)}"
    ids = {
        "account_id": uuid.UUID(str(payload["sub"])),
        "session_id": uuid.UUID(str(payload["sid"])),
        "role": Role.VIEWER,
        "profile_id": None,
        "maturity": None,
    }
    expired, _ = mint(a, **ids, now=time.time() - a.access_ttl_s - a.leeway_s - 60)
    wrong_aud, _ = mint(a.model_copy(update={"audience": "someone-else"}), **ids)
    wrong_iss, _ = mint(a.model_copy(update={"issuer": "https://evil.example"}), **ids)
    stranger = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    foreign = a.model_copy(
        update={"signing_keys": {"zz": SecretStr(stranger)}, "active_key_id": "zz"}
    )
    unknown_kid, _ = mint(foreign, **ids)
    return {
        "tampered": (tampered, "invalid_token"),
        "alg none": (none, "invalid_token"),
        "HS256 with the public key": (confused, "invalid_token"),
        "expired": (expired, "token_expired"),
        "wrong audience": (wrong_aud, "invalid_token"),
        "wrong issuer": (wrong_iss, "invalid_token"),
        "unknown kid": (unknown_kid, "unknown_key"),
        "garbage": ("a.b.c", "invalid_token"),
    }


def test_every_forged_or_stale_token_is_a_401_with_its_code(
    stack: Settings, http: httpx.Client
) -> None:
    person = signed_in(http)
    assert http.get("/v1/me", headers=person.headers).status_code == 200
    for name, (token, code) in _forgeries(stack, person.tokens["access_token"]).items():
        response = http.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.text)
        assert response.json()["error"]["code"] == code, name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
    anonymous = http.get("/v1/me")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"


def test_the_jwks_is_public_and_cacheable(stack: Settings, http: httpx.Client) -> None:
    response = http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age=300" in response.headers["Cache-Control"]
    kids = {key["kid"] for key in response.json()["keys"]}
    assert kids == set(stack.auth.signing_keys)
    assert all(key["alg"] == "EdDSA" and key["crv"] == "Ed25519" for key in response.json()["keys"])
