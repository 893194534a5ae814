"""The subscription lifecycle in the State pattern: one class per state.

Each state says which events it accepts, and to which state each leads (`transitions`), and
what access it grants (`grants_plan`): Active and GracePeriod grant the subscription's plan,
Cancelled grants it until the paid period ends, Suspended and Expired grant the free plan
only. subscriptions/lifecycle.py applies an event as one guarded UPDATE; the diagram in
docs/subscriptions.md is generated from these classes (subscriptions/diagram.py).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import ClassVar


class StateName(enum.StrEnum):
    ACTIVE = "Active"
    GRACE_PERIOD = "GracePeriod"
    SUSPENDED = "Suspended"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"


class Event(enum.StrEnum):
    # The subscription's creation (its first period paid): the first event of every history.
    SUBSCRIBE = "subscribe"
    RENEWAL_PAID = "renewal_paid"
    RENEWAL_FAILED = "renewal_failed"
    PAYMENT_RETRY_FAILED = "payment_retry_failed"
    GRACE_ENDED = "grace_ended"
    SUSPENSION_ENDED = "suspension_ended"
    CANCEL = "cancel"
    RESUME = "resume"
    PERIOD_ENDED = "period_ended"
    # An upgrade (at once) or a downgrade (recorded as pending, applied at the period end).
    CHANGE_PLAN = "change_plan"
    PAYMENT_METHOD_UPDATED = "payment_method_updated"
    # The new payment method was charged at once (from GracePeriod or Suspended) and paid.
    PAYMENT_METHOD_PAID = "payment_method_paid"


class InvalidTransition(Exception):
    """The state does not accept the event; the message names both."""

    def __init__(self, state: StateName, event: Event, reason: str | None = None) -> None:
        message = reason or f"a subscription in state {state} does not accept {event}"
        super().__init__(message)
        self.state, self.event, self.message = state, event, message


S, E = StateName, Event


class State:
    """One state: its name, the events it accepts (event -> next state), what it grants."""

    name: ClassVar[StateName]
    transitions: ClassVar[Mapping[Event, StateName]]
    description: ClassVar[str]

    @classmethod
    def next_state(cls, event: Event) -> StateName:
        """The state `event` leads to from this one; InvalidTransition if it is not accepted."""
        try:
            return cls.transitions[event]
        except KeyError:
            raise InvalidTransition(cls.name, event) from None

    @classmethod
    def accepts(cls, event: Event) -> bool:
        return event in cls.transitions

    @classmethod
    def grants_plan(cls, now: datetime, period_end: datetime) -> bool:
        """Whether the subscription's plan is granted now (else the free plan is)."""
        raise NotImplementedError


class Active(State):
    name = S.ACTIVE
    description = "paid up, the plan is granted"
    transitions = MappingProxyType({
        E.RENEWAL_PAID: S.ACTIVE,
        E.RENEWAL_FAILED: S.GRACE_PERIOD,
        E.CANCEL: S.CANCELLED,
        E.CHANGE_PLAN: S.ACTIVE,
        E.PAYMENT_METHOD_UPDATED: S.ACTIVE,
    })  # fmt: skip

    @classmethod
    def grants_plan(cls, now: datetime, period_end: datetime) -> bool:
        return True


class GracePeriod(State):
    name = S.GRACE_PERIOD
    description = "a renewal failed, the plan is kept while the charge is retried"
    transitions = MappingProxyType({
        E.RENEWAL_PAID: S.ACTIVE,
        E.PAYMENT_RETRY_FAILED: S.GRACE_PERIOD,
        E.GRACE_ENDED: S.SUSPENDED,
        E.CANCEL: S.CANCELLED,
        E.PAYMENT_METHOD_UPDATED: S.GRACE_PERIOD,
        E.PAYMENT_METHOD_PAID: S.ACTIVE,
    })  # fmt: skip

    @classmethod
    def grants_plan(cls, now: datetime, period_end: datetime) -> bool:
        return True


class Suspended(State):
    name = S.SUSPENDED
    description = "unpaid after the grace period, the free plan only until paid"
    transitions = MappingProxyType({
        E.RENEWAL_PAID: S.ACTIVE,
        E.SUSPENSION_ENDED: S.EXPIRED,
        E.CANCEL: S.EXPIRED,
        E.PAYMENT_METHOD_UPDATED: S.SUSPENDED,
        E.PAYMENT_METHOD_PAID: S.ACTIVE,
    })  # fmt: skip

    @classmethod
    def grants_plan(cls, now: datetime, period_end: datetime) -> bool:
        return False


class Cancelled(State):
    name = S.CANCELLED
    description = "not to be renewed, the plan is granted until the period ends"
    # A renewal charged just before the cancel landed is honoured: the paid period is granted,
    # still cancelled (the subscription then ends with that period).
    transitions = MappingProxyType({
        E.RESUME: S.ACTIVE,
        E.PERIOD_ENDED: S.EXPIRED,
        E.RENEWAL_PAID: S.CANCELLED,
        E.PAYMENT_METHOD_UPDATED: S.CANCELLED,
    })  # fmt: skip

    @classmethod
    def grants_plan(cls, now: datetime, period_end: datetime) -> bool:
        return now < period_end


class Expired(State):
    name = S.EXPIRED
    description = "over, the free plan only (a new subscription starts afresh)"
    transitions: ClassVar[Mapping[Event, StateName]] = MappingProxyType({})

    @classmethod
    def grants_plan(cls, now: datetime, period_end: datetime) -> bool:
        return False


STATES: dict[StateName, type[State]] = {
    cls.name: cls for cls in (Active, GracePeriod, Suspended, Cancelled, Expired)
}
# The state a new subscription starts in (its first period is paid when it is created).
INITIAL = S.ACTIVE


def state(name: StateName | str) -> type[State]:
    return STATES[StateName(name)]


def legal(
    from_state: StateName | str | None, event: Event | str, to_state: StateName | str
) -> bool:
    """Whether a recorded transition is one the states allow (None: the creation)."""
    if from_state is None:
        return Event(event) is E.SUBSCRIBE and StateName(to_state) is INITIAL
    return state(from_state).transitions.get(Event(event)) is StateName(to_state)
