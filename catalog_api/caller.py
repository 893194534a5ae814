"""The request's caller as the catalog uses it: who to route reads for, and what it may see.

The caller itself (`streamcore.auth.principal.principal`) is set by the kernel's
authentication middleware; what it may call is the route table's (permissions.py).
"""

from __future__ import annotations

from aiohttp import web

from streamcore.auth.maturity import UnknownMaturity, allowed_certifications, levels
from streamcore.auth.principal import principal
from streamcore.web.service import SETTINGS_KEY


def actor(request: web.Request) -> str | None:
    """A stable name for the caller's read-your-writes routing, or None for an anonymous one.

    `Principal.actor` (``account:<id>``, ``service:<name>``): after its own write, a caller's
    reads go to the primary for a while. Anonymous callers never write here, and all of them
    sharing one name would send every anonymous read to the primary after any write, so they
    have none.
    """
    caller = principal(request)
    return None if caller.anonymous else caller.actor


def visible_certifications(request: web.Request) -> frozenset[str] | None:
    """The certifications the caller may see; None: everything.

    Only a profile's maturity level (the token's ``mat``) restricts: admins, service accounts
    and callers without one (anonymous, a token without a profile) see every title. A level
    the settings no longer know (renamed since the token was minted, at most
    ``auth.access_ttl_s`` ago) counts as the least permissive one: unknown is never wider.
    """
    caller = principal(request)
    if caller.maturity is None or caller.is_admin or caller.service is not None:
        return None
    settings = request.app[SETTINGS_KEY].auth
    try:
        return allowed_certifications(settings, caller.maturity)
    except UnknownMaturity:
        return allowed_certifications(settings, levels(settings)[0])


def may_see(allowed: frozenset[str] | None, certification: str | None) -> bool:
    """Whether a caller allowed `allowed` (None: everything) sees content so certified (None:
    none, which no restricted level sees)."""
    return allowed is None or (certification is not None and certification in allowed)
