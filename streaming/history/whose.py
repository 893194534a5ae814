"""Whose history a request reads: the caller's own profile, or (an admin's support read,
audited) another's. The one place that decides it, for history, Continue Watching and
recommendations alike."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import web

from streamcore.auth.principal import principal
from streamcore.auth.roles import Permission, grants
from streamcore.web.service import SETTINGS_KEY, Forbidden, NotFound, Unauthorized
from streaming import grants as audit
from streaming.resources import PROFILES_KEY


class NotYourProfile(Forbidden):
    code = "not_your_profile"


@dataclass(frozen=True)
class Reader:
    """The profile read, as much as the decision needs of it."""

    profile_id: UUID
    account_id: UUID
    maturity: str | None
    # An admin's read of another profile: audited, and shown what the profile would see.
    support: bool = False


async def reader(request: web.Request, profile_id: UUID, resource: str) -> Reader:
    caller = principal(request)
    if caller.is_person and caller.profile_id == profile_id:
        assert caller.account_id is not None
        return Reader(profile_id, caller.account_id, caller.maturity)
    if caller.anonymous:
        raise Unauthorized("sign in to see a profile's history")
    anonymous_playback = request.app[SETTINGS_KEY].auth.allow_anonymous_playback
    if not grants(caller.role, Permission.MANAGE_ACCOUNTS, anonymous_playback=anonymous_playback):
        raise NotYourProfile("a profile's history is its own: select it, or ask an admin")
    profile = await request.app[PROFILES_KEY].profile(profile_id)
    if profile is None:
        raise NotFound(f"no profile with id {profile_id}")
    await audit.audit(
        request, "support_read", account_id=profile.account_id, profile_id=profile_id,
        detail={"resource": resource},
    )  # fmt: skip
    return Reader(profile_id, profile.account_id, profile.maturity, support=True)
