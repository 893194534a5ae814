"""How a title is shown to a profile in history, Continue Watching and recommendation rows:
only within its maturity level (streamcore/auth/maturity.py), and marked ``locked`` when it is
premium and the account's plan does not include premium titles (streamcore/entitlements.py);
while the subscriptions service cannot say, premium titles are shown locked."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from aiohttp import web

from streamcore import entitlements
from streamcore.auth import maturity
from streamcore.entitlements import Entitlement
from streamcore.entitlements_client import EntitlementsUnavailable
from streamcore.web.service import SETTINGS_KEY
from streaming.resources import ENTITLEMENTS_KEY
from streaming.titles import summary

log = logging.getLogger(__name__)


def certification(title: dict[str, Any]) -> str | None:
    """A title's certification as maturity filtering judges it: its own, else its series'."""
    own = title.get("certification")
    if own is None and isinstance(title.get("series"), dict):
        return title["series"].get("certification")
    return own


def level_of(app: web.Application, level: str | None) -> str | None:
    """A level these settings know (an unknown one: the least permissive)."""
    levels = maturity.levels(app[SETTINGS_KEY].auth)
    return level if level is None or level in levels else levels[0]


def visible(app: web.Application, level: str | None, title: dict[str, Any]) -> bool:
    return maturity.may_see(app[SETTINGS_KEY].auth, level_of(app, level), certification(title))


async def entitlement_of(app: web.Application, account_id: UUID) -> Entitlement | None:
    """The account's entitlement; None while the subscriptions service cannot say."""
    try:
        return await app[ENTITLEMENTS_KEY].entitlement(account_id)
    except EntitlementsUnavailable as exc:
        log.warning("entitlement of %s unknown (%s): premium titles shown locked", account_id, exc)
        return None


def presented(title: dict[str, Any], entitlement: Entitlement | None) -> dict[str, Any]:
    """The title's summary, with whether the account may play it."""
    access = title.get("access")
    playable = entitlements.may_play(entitlement, access) if entitlement else access != "premium"
    return {**summary(title), "locked": not playable}
