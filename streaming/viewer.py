"""Who is watching: only this module knows.

A signed-in person watches as the profile their access token names (``pid``); their account
(``sub``) holds the stream slots and their device session (``sid``) is the device. Without a
token, and only where ``auth.allow_anonymous_playback`` allows it (the authorization middleware
answers 401 otherwise), the caller is an anonymous viewer named by the ``X-Viewer-Id`` header
(from POST /v1/viewers), as before accounts existed. A service account (a script's key) is a
tool, not a viewer: it may ask for playback URLs, but it watches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import web

from streamcore.auth.principal import Principal, principal
from streamcore.web.service import Forbidden
from streamcore.web.validation import invalid

HEADER = "X-Viewer-Id"


class NoProfile(Forbidden):
    code = "no_profile"


class NotAViewer(Forbidden):
    code = "not_a_viewer"


@dataclass(frozen=True)
class Viewer:
    """A profile of an account (signed in), or an anonymous viewer id: exactly one of them."""

    profile_id: UUID | None = None
    account_id: UUID | None = None
    device_id: UUID | None = None
    maturity: str | None = None
    viewer_id: UUID | None = None

    @property
    def signed_in(self) -> bool:
        return self.profile_id is not None

    @property
    def column(self) -> str:
        """The column that names the owner of its rows (watch_progress, playback_events)."""
        return "profile_id" if self.signed_in else "viewer_id"

    @property
    def owner(self) -> UUID:
        owner = self.profile_id if self.signed_in else self.viewer_id
        assert owner is not None
        return owner

    @property
    def key(self) -> str:
        """A name for Redis keys: the profile's or the anonymous viewer's."""
        return f"profile:{self.profile_id}" if self.signed_in else str(self.viewer_id)


def _anonymous_id(request: web.Request) -> UUID:
    raw = request.headers.get(HEADER, "")
    try:
        return UUID(raw)
    except ValueError:
        raise invalid(HEADER, "send the viewer id from POST /v1/viewers") from None


def of_principal(caller: Principal) -> Viewer:
    """The signed-in viewer a person's token names (403 without a profile)."""
    if caller.account_id is None:
        raise NotAViewer("a service account watches nothing; sign in as a person")
    if caller.profile_id is None:
        raise NoProfile("choose a profile first (POST /v1/profiles/{id}/select)")
    return Viewer(
        profile_id=caller.profile_id, account_id=caller.account_id,
        device_id=caller.session_id, maturity=caller.maturity,
    )  # fmt: skip


def viewer(request: web.Request) -> Viewer:
    """Who is watching. Anonymous callers got here only if anonymous playback is allowed."""
    caller = principal(request)
    if caller.anonymous:
        return Viewer(viewer_id=_anonymous_id(request))
    return of_principal(caller)


def signed_in(request: web.Request) -> Viewer | None:
    """The signed-in person's viewer; None for an anonymous caller or a service account
    (GET /v1/playback: they get URLs as before accounts, without a stream slot)."""
    caller = principal(request)
    return of_principal(caller) if caller.is_person else None
