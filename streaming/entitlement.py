"""What a viewer may play, and how much of it: the streaming service's one entitlement decision.

Everything follows from the viewer's entitlement (`streamcore.entitlements`: the plan its
account has now, as the subscriptions service says through `streamcore.entitlements_client`):

- a premium title on a plan without premium titles: 403 ``not_entitled``. The entitlement is
  asked afresh before refusing, so that an account that has just subscribed is never refused
  from the client's few seconds' cache;
- the account's stream slots: the plan's ``streams`` (streaming/streams.py);
- what the playback token opens: `allowed_renditions` of the asset's ladder, the token's
  ``only`` (streamcore/signing.py), which the origin and the edge enforce, and to which the
  origin cuts the viewer's master playlist and MPD.

Anonymous viewers (where ``auth.allow_anonymous_playback`` allows them) have the free plan,
without asking anyone. Service accounts (a script's or CI's key) watch nothing and are not
limited. Each grant decides again: session starts, playback URLs, and every heartbeat's
renewal of them, so that a state change that removes access (Suspended, Expired, a downgrade)
ends playback within ``streaming.playback_token_ttl_s``: the renewal is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import web

from streamcore import entitlements
from streamcore.auth.principal import principal
from streamcore.entitlements import Entitlement
from streamcore.web.service import SETTINGS_KEY, Forbidden
from streaming.catalog_client import CatalogAsset
from streaming.resources import ENTITLEMENTS_KEY


class NotEntitled(Forbidden):
    code = "not_entitled"


@dataclass(frozen=True)
class Playback:
    """What one grant may open: None for a service account, which nothing limits."""

    entitlement: Entitlement | None
    # The renditions the playback token opens (its `only`); None: every one.
    renditions: list[str] | None

    @property
    def streams(self) -> int:
        assert self.entitlement is not None, "service accounts hold no stream slots"
        return self.entitlement.streams


UNLIMITED = Playback(entitlement=None, renditions=None)


def _decide(entitlement: Entitlement, asset: CatalogAsset) -> Playback:
    if not entitlements.may_play(entitlement, asset.access):
        raise NotEntitled(
            f"this title is premium, and the {entitlement.plan} plan does not include it",
            extra={"plan": entitlement.plan, "access": str(asset.access)},
        )
    return Playback(entitlement, entitlements.allowed_renditions(entitlement, asset.renditions))


async def of_account(app: web.Application, account_id: UUID, asset: CatalogAsset) -> Playback:
    """A signed-in viewer's grant for `asset`: its account's plan, asked afresh before a
    refusal; 403 ``not_entitled``, or 503 when the subscriptions service cannot say."""
    client = app[ENTITLEMENTS_KEY]
    entitlement = await client.entitlement(account_id)
    if not entitlements.may_play(entitlement, asset.access):
        entitlement = await client.entitlement(account_id, fresh=True)
    return _decide(entitlement, asset)


def anonymous(app: web.Application, asset: CatalogAsset) -> Playback:
    """An anonymous viewer's grant: the free plan's."""
    return _decide(entitlements.free(app[SETTINGS_KEY]), asset)


def of_caller(request: web.Request, asset: CatalogAsset) -> Playback:
    """The grant of a caller who is not a signed-in person: a tool, or an anonymous viewer."""
    return UNLIMITED if principal(request).service is not None else anonymous(request.app, asset)
