"""What an account may play: the one entitlement check (account → plan → what it grants).

The subscriptions service says which plan an account has now and whether its subscription's
state grants it (subscriptions/states.py); when none does (no subscription, Suspended,
Expired) the account has ``subscriptions.free_plan``. Everything after that is here, and
every service that decides playback asks these functions:

- `may_play`: premium titles need a plan that includes them (the catalog marks the others
  locked, the streaming service refuses them with 403 ``not_entitled``);
- `allowed_renditions`: the renditions at or below the plan's highest height, which the
  playback token's scope opens (streamcore/signing.py) and the origin's manifests list;
- ``streams``: the account's concurrent stream slots (streaming/slots.py).

Services learn an account's entitlement from the subscriptions service over HTTP
(``GET /v1/entitlements/{account_id}``, subscriptions/entitlements.py, through
`streamcore/entitlements_client.py`): the catalog marks titles locked (catalog_api/locks.py),
the streaming service decides playback (streaming/entitlement.py), and the origin and the edge
enforce the renditions the playback token opens (origin/renditions.py).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from streamcore.plans import Plan
from streamcore.settings import Settings


class Access(enum.StrEnum):
    """A title's access level: who may play it."""

    FREE = "free"
    PREMIUM = "premium"


class Entitlement(BaseModel):
    """What one account may play now, and why (its plan and its subscription's state)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    account_id: UUID | None = None
    plan: str
    # The subscription's state (Active, GracePeriod, ...); None: the account has none.
    state: str | None = None
    streams: int
    max_height: int
    premium: bool
    # When the plan's grant ends unless the subscription is renewed (None: the free plan).
    until: datetime | None = None


def of_plan(
    plan: Plan,
    *,
    account_id: UUID | None = None,
    state: str | None = None,
    until: datetime | None = None,
) -> Entitlement:
    return Entitlement(
        account_id=account_id, plan=plan.name, state=state, streams=plan.streams,
        max_height=plan.max_height, premium=plan.premium, until=until,
    )  # fmt: skip


def free(
    settings: Settings, account_id: UUID | None = None, state: str | None = None
) -> Entitlement:
    """The free plan's entitlement: anonymous viewers, and accounts without a paid grant."""
    return of_plan(
        settings.plans[settings.subscriptions.free_plan], account_id=account_id, state=state
    )


def may_play(entitlement: Entitlement, access: Access | str | None) -> bool:
    """Whether a title of this access level is playable (None, from an older catalog: free)."""
    return access in (None, Access.FREE) or entitlement.premium


def allowed_renditions(
    entitlement: Entitlement, renditions: Iterable[Mapping[str, Any]]
) -> list[str]:
    """The names of the renditions (``{"name", "height", ...}``) the plan may be given.

    Those at or below the plan's highest height; when every rendition is taller (a source
    whose lowest rung is above a plan's cap), the lowest one alone, so that a plan never
    leaves a playable title without a picture.
    """
    listed = sorted(renditions, key=lambda r: int(r["height"]))
    allowed = [str(r["name"]) for r in listed if int(r["height"]) <= entitlement.max_height]
    if not allowed and listed:
        allowed = [str(listed[0]["name"])]
    return allowed
