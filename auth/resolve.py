"""Resolving (account email, profile name) pairs to ids, for imports from other systems
(`POST /v1/admin/profiles/resolve`; `streamcore history import` is its client).

Each item is checked on its own: an email as sign-in normalises it, a profile name as profiles
store it (NFC, trimmed), matched exactly (names are not unique in an account, nor compared
case-insensitively, so two profiles of that name are an `ambiguous_profile`). Everything is
first looked up in two reads; only the accounts that miss something, and only with
`create_missing`, are then made sure of, each in one transaction with its row locked
(auth/writes.py `ensure_profiles`), so that resolving the same items again, or twice at once,
creates nothing more. A missing account is created with the `viewer` role and no password (it
signs in once an admin sets one), a missing profile with a new profile's defaults (the most
permissive maturity level, English), up to `auth.max_profiles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import TypeAdapter, ValidationError

from auth import audit, queries, writes
from auth.models import Email, Name, ResolveItem
from auth.resources import DB_POOL_KEY
from streamcore.auth.roles import Role
from streamcore.web.service import SETTINGS_KEY

_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_NAME: TypeAdapter[str] = TypeAdapter(Name)
_VIA = "profiles_resolve"


@dataclass(frozen=True)
class Wanted:
    email: str
    name: str


def _checked(item: ResolveItem) -> Wanted | tuple[str, str]:
    """The item's normalised pair, or its (code, message)."""
    try:
        email = _EMAIL.validate_python(item.account_email)
    except ValidationError as exc:
        return "invalid_email", f"account_email: {_reason(exc)}"
    try:
        name = _NAME.validate_python(item.profile_name)
    except ValidationError as exc:
        return "invalid_profile_name", f"profile_name: {_reason(exc)}"
    return Wanted(email, name)


def _reason(exc: ValidationError) -> str:
    return str(exc.errors(include_url=False)[0]["msg"]).removeprefix("Value error, ")


class Resolver:
    """One request's resolution: what was found, what was created, and each item's answer."""

    def __init__(self, request: web.Request) -> None:
        auth = request.app[SETTINGS_KEY].auth
        self.request, self.pool = request, request.app[DB_POOL_KEY]
        self.max_profiles = auth.max_profiles
        # A new profile's defaults, as sign-up's first profile: the most permissive level.
        self.defaults = (list(auth.maturity_levels)[-1], "en")
        self.accounts: dict[str, UUID] = {}
        # (email, name) -> the profile's id, or why there is none ("ambiguous", "too_many").
        self.profiles: dict[Wanted, UUID | str] = {}
        # What this request created, until the first item naming it is answered.
        self.created_accounts: set[str] = set()
        self.created_profiles: set[Wanted] = set()

    async def look_up(self, wanted: Sequence[Wanted]) -> None:
        self.accounts = await queries.accounts_by_email(
            self.pool, sorted({w.email for w in wanted})
        )
        emails = {account_id: email for email, account_id in self.accounts.items()}
        named: dict[Wanted, list[UUID]] = {}
        for row in await queries.profile_names(self.pool, list(emails)):
            named.setdefault(Wanted(emails[row["account_id"]], row["name"]), []).append(row["id"])
        for w in wanted:
            ids = named.get(w, [])
            if ids:
                self.profiles[w] = ids[0] if len(ids) == 1 else "ambiguous"

    async def create_missing(self, wanted: Sequence[Wanted]) -> None:
        """Make sure of each account that misses something, one transaction each; audit what
        was created once it is committed."""
        missing: dict[str, list[str]] = {}
        for w in wanted:
            if w not in self.profiles:
                missing.setdefault(w.email, []).append(w.name)
        for email, names in missing.items():
            async with self.pool.acquire() as conn:
                ensured = await writes.ensure_profiles(
                    conn, email=email, display_name=email.split("@", 1)[0],
                    role=Role.VIEWER.value, names=names, defaults=self.defaults,
                    max_profiles=self.max_profiles,
                )  # fmt: skip
            self.accounts[email] = ensured.account_id
            if ensured.created:
                self.created_accounts.add(email)
                await audit.record_request(
                    self.request, "account_created", account_id=ensured.account_id,
                    role=Role.VIEWER.value, password_set=False, via=_VIA,
                )  # fmt: skip
            for name, outcome in ensured.profiles.items():
                await self._found(Wanted(email, name), ensured.account_id, outcome)

    async def _found(self, w: Wanted, account_id: UUID, outcome: tuple[UUID, bool] | str) -> None:
        if isinstance(outcome, str):
            self.profiles[w] = outcome
            return
        profile_id, created = outcome
        self.profiles[w] = profile_id
        if created:
            self.created_profiles.add(w)
            await audit.record_request(
                self.request, "profile_created", account_id=account_id, profile_id=profile_id,
                name=w.name, maturity=self.defaults[0], via=_VIA,
            )  # fmt: skip

    def answer(self, item: ResolveItem, checked: Wanted | tuple[str, str]) -> dict[str, Any]:
        """The item's answer (in input order: a creation is reported on its first item)."""
        given = {"account_email": item.account_email, "profile_name": item.profile_name}
        if isinstance(checked, tuple):
            return {**given, "error": _error(*checked)}
        account_id, profile = self.accounts.get(checked.email), self.profiles.get(checked)
        if account_id is None or not isinstance(profile, UUID):
            return {**given, "error": self._why(account_id, profile)}
        created_account = checked.email in self.created_accounts
        created_profile = checked in self.created_profiles
        self.created_accounts.discard(checked.email)
        self.created_profiles.discard(checked)
        return {
            **given, "account_id": str(account_id), "profile_id": str(profile),
            "created_account": created_account, "created_profile": created_profile,
        }  # fmt: skip

    def _why(self, account_id: UUID | None, profile: UUID | str | None) -> dict[str, str]:
        if account_id is None:
            return _error("unknown_account", "no account has this email")
        if profile == "ambiguous":
            return _error("ambiguous_profile", "the account has several profiles by this name")
        if profile == "too_many":
            return _error("too_many_profiles", f"an account has at most {self.max_profiles} "
                                               "profiles")  # fmt: skip
        return _error("unknown_profile", "the account has no profile by this name")


def _error(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


async def resolve(
    request: web.Request, items: Sequence[ResolveItem], create_missing: bool
) -> list[dict[str, Any]]:
    """Each item's answer, in order."""
    resolver = Resolver(request)
    checked = [_checked(item) for item in items]
    wanted = [c for c in checked if isinstance(c, Wanted)]
    await resolver.look_up(wanted)
    if create_missing:
        await resolver.create_missing(wanted)
    return [resolver.answer(item, c) for item, c in zip(items, checked, strict=True)]
