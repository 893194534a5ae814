"""Password policy, email normalisation, and refresh token digests."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from auth.models import Signup, normalise_email
from auth.passwords import (
    Passwords,
    PasswordTooCommon,
    PasswordTooLong,
    PasswordTooShort,
    check_policy,
)
from auth.refresh_tokens import digest, new_token
from streamcore.settings import Settings


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def test_passwords_need_eight_characters_and_no_composition() -> None:
    with pytest.raises(PasswordTooShort):
        check_policy("short7!")
    assert check_policy("all lower case words") == "all lower case words"
    assert check_policy("x" * 1024)
    with pytest.raises(PasswordTooLong):
        check_policy("x" * 1025)
    with pytest.raises(PasswordTooCommon):
        check_policy("Password123")


def test_passwords_are_nfkc_normalised() -> None:
    # A full-width passphrase is the same password as its ASCII spelling.
    assert check_policy(_fullwidth("passphrase") + " " + _fullwidth("one")) == "passphrase one"


async def test_hashes_are_argon2id_with_the_configured_parameters(settings: Settings) -> None:
    passwords = Passwords(settings.auth)
    stored = await passwords.hash("correct horse battery")
    a = settings.auth
    assert stored.startswith(
        f"$argon2id$v=19$m={a.argon2_memory_kib},t={a.argon2_time_cost},p={a.argon2_parallelism}$"
    )
    assert await passwords.verify(stored, "correct horse battery")
    assert not await passwords.verify(stored, "wrong horse battery")
    assert not await passwords.verify(None, "correct horse battery")  # no account: the decoy
    assert not passwords.needs_rehash(stored)


def test_emails_are_normalised_and_checked() -> None:
    assert normalise_email(f"  {_fullwidth('Me')}@Example.COM ") == "me@example.com"
    body = Signup.model_validate(
        {"email": " Ann@Example.org", "password": "x", "display_name": "A"}
    )
    assert body.email == "ann@example.org"
    for bad in ("no-at-sign", "two@@example.org", "a@nodot", "sp ace@example.org", "@x.org"):
        with pytest.raises(ValidationError):
            Signup.model_validate({"email": bad, "password": "x", "display_name": "A"})


def test_refresh_tokens_are_random_and_stored_as_sha256() -> None:
    (one, one_hash), (two, _) = new_token(), new_token()
    assert one != two and len(one) >= 43
    assert one_hash == digest(one) and len(one_hash) == 32
