"""The subscriptions service's request and response bodies (pydantic; they also make its
OpenAPI). Requests are validated by these models (streamcore/web/validation.py); responses are
built as plain dicts by the handlers and documented by the `...Out` models."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from subscriptions.states import StateName

PLAN = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$", description="A paid plan's name (GET /v1/plans)")
METHOD = Field(
    min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$",
    description="The provider's payment method id (local: pm_card_visa, pm_card_chargeDeclined,"
    " pm_card_chargeDeclinedInsufficientFunds)",
)  # fmt: skip


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscribeIn(_Body):
    plan: str = PLAN
    payment_method: str = METHOD


class ChangePlanIn(_Body):
    plan: str = PLAN


class PaymentMethodIn(_Body):
    payment_method: str = METHOD


class ClockIn(_Body):
    advance_s: float = Field(gt=0, le=400 * 86400, description="Seconds to move forward")


class AdminParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state: StateName | None = None
    plan: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    limit: int = Field(50, ge=1, le=100)
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the page before")


class InvoicesParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    limit: int = Field(50, ge=1, le=100)


# -- responses (documentation of what the handlers build) -------------------------------------


class PlanOut(BaseModel):
    name: str
    display_name: str
    price: str = Field(description="Decimal string in `currency`")
    currency: str
    amount_minor: int
    interval: str
    interval_count: int
    streams: int
    max_height: int
    premium: bool
    free: bool


class PlanList(BaseModel):
    items: list[PlanOut]
    free_plan: str


class EntitlementOut(BaseModel):
    account_id: UUID | None
    plan: str
    state: str | None
    streams: int
    max_height: int
    premium: bool
    until: datetime | None


class SubscriptionOut(BaseModel):
    id: UUID
    account_id: UUID
    plan: str
    state: StateName
    version: int
    period_start: datetime
    period_end: datetime
    pending_plan: str | None
    payment_method: str | None
    retry_count: int
    next_retry_at: datetime | None
    grace_until: datetime | None
    suspended_until: datetime | None
    created_at: datetime
    updated_at: datetime


class SubscriptionWithAccess(SubscriptionOut):
    entitlement: EntitlementOut


class EventOut(BaseModel):
    seq: int
    event: str
    from_state: StateName | None
    to_state: StateName
    source: str
    at: datetime
    detail: dict[str, Any]


class EventList(BaseModel):
    subscription_id: UUID
    items: list[EventOut]


class InvoiceOut(BaseModel):
    id: UUID
    subscription_id: UUID
    plan: str
    amount_minor: int
    currency: str
    period_start: datetime
    period_end: datetime
    status: str = Field(examples=["paid", "failed"])
    failure_code: str | None
    created_at: datetime


class InvoiceList(BaseModel):
    items: list[InvoiceOut]


class SubscriptionPage(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None


class TickOut(BaseModel):
    now: datetime
    done: dict[str, int] = Field(description="What the tick did, by event")


class ClockOut(BaseModel):
    now: datetime
    offset_s: float


class WebhookOut(BaseModel):
    event_id: str
    outcome: str = Field(
        examples=["applied", "duplicate", "stale", "ignored", "refused", "already_applied"]
    )
