"""Passwords: the policy (NIST SP 800-63B) and Argon2id hashing off the event loop.

Policy: at least 8 characters and at most 1024 (long passphrases welcome), any characters, no
composition rules; a few of the most common passwords are refused. Each rule broken is a 400
with its own code. Passwords are NFKC-normalised before hashing (800-63B 5.1.1.2), so the same
passphrase typed on two keyboards is one password.

Hashing: argon2-cffi's Argon2id with every parameter set here from ``auth.argon2_*`` (OWASP's
m=19 MiB, t=2, p=1), never the library's defaults, which may change. One hash costs tens of
milliseconds of a core and ~20 MiB, so it runs in the default executor (argon2-cffi releases
the GIL) and at most ``auth.hash_concurrency`` at once per process: 20 concurrent sign-ins
queue for the semaphore instead of stalling the event loop or exhausting memory.
"""

from __future__ import annotations

import asyncio
import secrets
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from streamcore.settings import AuthSettings
from streamcore.web.service import InvalidRequest

MIN_LENGTH = 8
MAX_LENGTH = 1024
# Among the most used passwords of the public breach lists that pass the length rule; the
# policy's point is refusing what every guessing list tries first, not a dictionary.
COMMON = frozenset(
    {
        "password", "password1", "password123", "12345678", "123456789", "1234567890",
        "qwertyuiop", "qwerty123", "11111111", "00000000", "iloveyou", "sunshine",
        "princess", "football", "baseball", "welcome1", "abc12345", "letmein1",
        "trustno1", "passw0rd", "starwars", "whatever", "superman", "1q2w3e4r",
        "streamcore",
    }
)  # fmt: skip


class PasswordTooShort(InvalidRequest):
    code = "password_too_short"


class PasswordTooLong(InvalidRequest):
    code = "password_too_long"


class PasswordTooCommon(InvalidRequest):
    code = "password_too_common"


def _refused(error: type[InvalidRequest], message: str) -> InvalidRequest:
    return error(f"password: {message}", details=[{"field": "password", "message": message}])


def check_policy(password: str) -> str:
    """The password as it is hashed (NFKC); a 400 naming the rule it breaks."""
    normalised = unicodedata.normalize("NFKC", password)
    if len(normalised) < MIN_LENGTH:
        raise _refused(PasswordTooShort, f"use at least {MIN_LENGTH} characters")
    if len(normalised) > MAX_LENGTH:
        raise _refused(PasswordTooLong, f"use at most {MAX_LENGTH} characters")
    if normalised.lower() in COMMON:
        raise _refused(PasswordTooCommon, "this password is too common; choose another")
    return normalised


def generate() -> str:
    """A one-time password for an account an admin creates: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


class Passwords:
    """Hash and verify, off the event loop, at most `hash_concurrency` at once."""

    def __init__(self, settings: AuthSettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._slots = asyncio.Semaphore(settings.hash_concurrency)
        # Verified when an email has no account, so that an unknown address costs as long as
        # a wrong password (no telling which addresses have accounts by the time it takes).
        self._decoy = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(
                None, self._hasher.hash, unicodedata.normalize("NFKC", password)
            )

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether `password` matches `stored` (None: no account; the decoy is checked)."""
        candidate = unicodedata.normalize("NFKC", password)
        async with self._slots:
            matches = await asyncio.get_running_loop().run_in_executor(
                None, self._verify, stored or self._decoy, candidate
            )
        return matches and stored is not None

    def needs_rehash(self, stored: str) -> bool:
        """Hashed with other parameters than the settings' (they were raised since)."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
