"""Premium titles locked for callers whose plan does not include them: marked, never hidden.

Every title and asset the catalog answers carries ``locked``: true when the title (an asset:
any of its titles) is premium and the caller's entitlement (streamcore/entitlements.py,
`may_play`) does not include premium titles. Like maturity filtering (titles/visibility.py)
it is computed per response *after* the cache: documents and pages are cached once for
everyone and carry only ``access``; ``locked`` is added by the presenter (titles/views.py,
assets/views.py). The caller's entitlement is looked up once per request:

- admins and service accounts: nothing is locked, and nothing is asked;
- anonymous callers: the free plan (``entitlements.free``), without a call;
- accounts: the subscriptions service, through the app's `EntitlementsClient`
  (resources.py), which remembers an answer ``subscriptions.entitlements_cache_s``: a plan
  change shows here at most that long after it;
- when that service cannot answer (and the client knows no recent answer): the free plan,
  logged, so premium titles are locked (fail closed) and a listing is still a 200. Such an
  answer is marked `degraded`: a caller's cache keeps it only seconds (titles/handlers.py).

Responses differ by caller and already say ``Vary: Authorization``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from catalog_api.resources import ENTITLEMENTS_KEY
from streamcore import entitlements
from streamcore.auth.principal import principal
from streamcore.entitlements import Entitlement, may_play
from streamcore.entitlements_client import EntitlementsUnavailable
from streamcore.web.service import SETTINGS_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Locks:
    """What the caller may play. `entitlement` None: everything (admins, service accounts)."""

    entitlement: Entitlement | None = None
    # The subscriptions service did not answer: locked as for the free plan.
    degraded: bool = False

    def locked(self, access: str | None) -> bool:
        return self.entitlement is not None and not may_play(self.entitlement, access)


UNLOCKED = Locks()


async def caller_locks(request: web.Request) -> Locks:
    """The request's caller's locks, from at most one entitlement lookup."""
    caller, settings = principal(request), request.app[SETTINGS_KEY]
    if caller.is_admin or caller.service is not None:
        return UNLOCKED
    if caller.account_id is None:  # anonymous
        return Locks(entitlements.free(settings))
    try:
        found = await request.app[ENTITLEMENTS_KEY].entitlement(caller.account_id)
    except EntitlementsUnavailable as exc:
        log.warning(
            "entitlements unavailable for account %s: premium titles locked (%s)",
            caller.account_id, exc.message,
        )  # fmt: skip
        return Locks(entitlements.free(settings, caller.account_id), degraded=True)
    return Locks(found)
