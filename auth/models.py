"""The auth service's request and response bodies (pydantic; they also make its OpenAPI).

Requests are validated by these models (streamcore/web/validation.py); responses are built as
plain dicts by the handlers and documented by the `...Out` models, which the fuzz run checks
real answers against. Emails are normalised here, once, for every way in (sign-up, sign-in,
admin creation, resolving profiles): NFKC, trimmed, lower-case. Profile names are NFC and
trimmed, and so are the genres a profile picked (duplicates dropped, first order kept).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from streamcore.auth.roles import Role

MAX_EMAIL = 254
MAX_GENRES, MAX_GENRE = 20, 40
# One @, something on both sides, a dot in the domain, no spaces or control characters: a
# pragmatic check (the address is proven only by mail, which is not this service's business).
_EMAIL = re.compile(r"^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$")
# BCP 47-ish: a 2-3 letter language, then subtags (region, script, variant): en, pt-BR, zh-Hant.
_LANGUAGE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
# PostgreSQL text cannot hold NUL; control characters have no place in a name either.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise_email(value: str) -> str:
    """The one spelling of an address: NFKC, surrounding space trimmed, lower-case."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def _email(value: str) -> str:
    email = normalise_email(value)
    if len(email) > MAX_EMAIL or _CONTROL.search(email) or not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def _name(value: str) -> str:
    name = unicodedata.normalize("NFC", value).strip()
    if not name or _CONTROL.search(name):
        raise ValueError("must be printable and not blank")
    return name


def _genres(values: list[str]) -> list[str]:
    """Each genre (trimmed, 1 to 40 characters, by its type) NFC and printable; duplicates
    dropped (the first of each kept, in the order given)."""
    kept: dict[str, None] = {}
    for value in values:
        genre = unicodedata.normalize("NFC", value).strip()
        if not 1 <= len(genre) <= MAX_GENRE:
            raise ValueError(f"each genre has 1 to {MAX_GENRE} characters (trimmed)")
        if not genre.isprintable():
            raise ValueError("each genre must be printable characters only")
        kept.setdefault(genre, None)
    return list(kept)


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Email = Annotated[str, Field(max_length=1024), AfterValidator(_email)]
Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_name)]
# The password policy (length, common passwords) is auth/passwords.py's: its own 400 codes.
Password = Annotated[str, Field(description="8 to 1024 characters; any characters")]
Language = Annotated[str, Field(pattern=_LANGUAGE, max_length=35, examples=["en", "pt-BR"])]
Genres = Annotated[
    list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                          max_length=MAX_GENRE)]],
    Field(max_length=MAX_GENRES, examples=[["Drama", "Sci-Fi"]],
          description=f"The genres the person picked (cold-start recommendations): at most "
          f"{MAX_GENRES}, each 1 to {MAX_GENRE} printable characters once trimmed; duplicates "
          "are dropped, the order kept"),
    AfterValidator(_genres),
]  # fmt: skip


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Signup(_Body):
    email: Email
    password: Password
    display_name: Name


class Login(_Body):
    email: Email
    password: Password
    device_name: Name = Field("unnamed device", description="Shown in the list of devices")


class Refresh(_Body):
    refresh_token: str = Field(min_length=1, max_length=512)


class ProfileIn(_Body):
    name: Name
    maturity: str = Field(description="One of auth.maturity_levels (kids, teen, adult)")
    language: Language = "en"
    genres: Genres = Field(default_factory=list)


class ProfilePatch(_Body):
    name: Name | None = None
    maturity: str | None = None
    language: Language | None = None
    genres: Genres | None = Field(None, description="Replaces the list (an empty one clears it)")

    @field_validator("name", "maturity", "language", "genres", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("leave it out rather than null")
        return value


class AccountCreate(_Body):
    email: Email
    display_name: Name | None = None
    role: Role = Role.VIEWER
    password: Password | None = Field(
        None, description="Unset: a one-time password is generated and returned once"
    )


class AccountPatch(_Body):
    role: Role | None = None
    password: Password | None = Field(
        None, description="A new password (the policy applies); the account's devices are "
        "signed out. How an account made without one (by an import) gets its first",
    )  # fmt: skip


MAX_RESOLVE = 500


class ResolveItem(_Body):
    # Checked item by item (auth/resolve.py), so that one bad item does not refuse the others.
    account_email: str = Field(max_length=1024, description="Normalised as sign-in does")
    profile_name: str = Field(
        max_length=200, description="Matched exactly once NFC and trimmed, as names are stored"
    )


class ResolveIn(_Body):
    items: list[ResolveItem] = Field(min_length=1, max_length=MAX_RESOLVE)
    create_missing: bool = Field(
        False, description="Create missing accounts (role viewer, no password) and profiles"
    )


class AccountsParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    q: Annotated[str, AfterValidator(_printable)] | None = Field(
        None, min_length=1, max_length=200, description="Part of the email or display name"
    )
    limit: int = Field(50, ge=1, le=100)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the page before")


class AuditParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    account: UUID | None = Field(None, description="Events about this account")
    kind: str | None = Field(None, pattern=r"^[a-z_]{1,64}$", description="e.g. login_failed")
    since: datetime | None = Field(None, description="Events at or after this time (ISO 8601)")
    limit: int = Field(50, ge=1, le=100)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the page before")

    @field_validator("since")
    @classmethod
    def _utc_unless_told(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value


# -- responses (documentation of what the handlers build) -------------------------------------


class AccountOut(BaseModel):
    id: UUID
    email: str
    display_name: str
    role: Role
    created_at: datetime


class AccountCreated(BaseModel):
    account: AccountOut


class AccountCreatedByAdmin(BaseModel):
    account: AccountOut
    password: str | None = Field(
        None, description="The generated one-time password, only when none was given"
    )


class MeOut(AccountOut):
    profile_id: UUID | None = Field(description="The token's profile")
    device_id: UUID | None = Field(description="The token's device session")


class TokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = Field(examples=["Bearer"])
    expires_in: int = Field(description="Seconds the access token is valid")
    device_id: UUID
    profile_id: UUID | None


class ProfileOut(BaseModel):
    id: UUID
    name: str
    maturity: str
    language: str
    genres: list[str] = Field(description="The genres the person picked, in their order")
    created_at: datetime


class AdminProfileOut(BaseModel):
    id: UUID
    account_id: UUID
    name: str
    maturity: str
    language: str
    genres: list[str]
    created_at: datetime


class ProfileList(BaseModel):
    items: list[ProfileOut]


class ProfileToken(BaseModel):
    access_token: str
    token_type: str = Field(examples=["Bearer"])
    expires_in: int
    profile_id: UUID


class DeviceOut(BaseModel):
    id: UUID
    name: str
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool = Field(description="The device of the token that asked")


class DeviceList(BaseModel):
    items: list[DeviceOut]


class SignedOut(BaseModel):
    signed_out: int


class AdminAccountOut(AccountOut):
    profiles: list[ProfileOut]


class ItemError(BaseModel):
    code: str = Field(
        description="invalid_email, invalid_profile_name, unknown_account, unknown_profile, "
        "ambiguous_profile or too_many_profiles"
    )
    message: str


class Resolved(BaseModel):
    account_email: str = Field(description="As given")
    profile_name: str = Field(description="As given")
    account_id: UUID
    profile_id: UUID
    created_account: bool = Field(
        description="This call created the account (true on the first item naming it only)"
    )
    created_profile: bool = Field(
        description="This call created the profile (true on the first item naming it only)"
    )


class NotResolved(BaseModel):
    account_email: str
    profile_name: str
    error: ItemError


class ResolveOut(BaseModel):
    items: list[Resolved | NotResolved] = Field(description="One per item, in the input order")


class AccountPage(BaseModel):
    items: list[AdminAccountOut]
    next_cursor: str | None


class AuditEventOut(BaseModel):
    id: UUID
    at: datetime
    kind: str
    actor: str
    account_id: UUID | None
    profile_id: UUID | None
    session_id: UUID | None
    ip: str | None
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


class Jwk(BaseModel):
    kty: str
    crv: str
    x: str
    kid: str
    alg: str
    use: str


class JwksOut(BaseModel):
    keys: list[Jwk]
