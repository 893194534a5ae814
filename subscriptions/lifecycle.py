"""Applying one event to one subscription: decide (subscriptions/states.py), then one
compare-and-set write with its history row (subscriptions/writes.py `transition`).

`apply` reads the subscription, asks its state class where the event leads, works out the
columns the event changes (`EFFECTS`, one function per event), and writes them with
``UPDATE ... WHERE id = $1 AND state = $from AND version = $v`` plus the event row, in one
transaction. When another writer got there first (the UPDATE matched nothing) it reads the
row again and decides again, so a webhook, the scheduler and the user racing on one
subscription leave one consistent history; an event the new state refuses raises
`InvalidTransition` (409 ``invalid_transition``). An event with a `key` is applied at most
once: the same key again changes nothing (``Applied.duplicate``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from streamcore import notify
from subscriptions import queries, writes
from subscriptions.policy import Policy
from subscriptions.records import Subscription
from subscriptions.states import Event, InvalidTransition, StateName, state

log = logging.getLogger(__name__)

# A lost race is decided again this many times before it is reported.
MAX_ATTEMPTS = 8
SOURCES = ("user", "scheduler", "webhook", "admin")


class NotFound(LookupError):
    pass


class LostRace(RuntimeError):
    """Other writers kept winning: the event was not applied (the caller may retry)."""


@dataclass(frozen=True)
class Applied:
    subscription: Subscription
    event: Event
    from_state: StateName
    duplicate: bool = False  # the key was applied before: nothing changed


@dataclass(frozen=True)
class Context:
    """What an effect needs besides the row: the time, the policy and the event's arguments."""

    now: datetime
    policy: Policy
    args: Mapping[str, Any] = field(default_factory=dict)


Effect = Callable[[Subscription, Context], dict[str, Any]]


def _new_period(sub: Subscription, ctx: Context) -> dict[str, Any]:
    """A paid period: the pending plan (a downgrade) takes over; it follows the unpaid one,
    except after a suspension (unpaid time is not given back), when it starts now."""
    plan = ctx.args.get("plan") or sub.pending_plan or sub.plan
    start = ctx.now if sub.state is StateName.SUSPENDED else sub.period_end
    # A charge for the period due at `for_period`: once that period is renewed (by whoever
    # reported another charge for it first), it renews nothing more.
    paid_for = ctx.args.get("for_period")
    if paid_for is not None and sub.state is not StateName.SUSPENDED and paid_for != start:
        raise InvalidTransition(sub.state, Event(ctx.args["event"]), "that period is renewed")
    return {
        "plan": plan, "pending_plan": None, "period_start": start,
        "period_end": ctx.policy.period_after(start, plan), "retry_count": 0,
        "next_retry_at": None, "grace_until": None, "suspended_until": None,
    }  # fmt: skip


def _renewal_failed(sub: Subscription, ctx: Context) -> dict[str, Any]:
    due = sub.period_end
    return {
        "plan": sub.pending_plan or sub.plan, "pending_plan": None, "retry_count": 0,
        "next_retry_at": ctx.policy.retry_at(due, 0), "grace_until": due + ctx.policy.grace,
    }  # fmt: skip


def _retry_failed(sub: Subscription, ctx: Context) -> dict[str, Any]:
    done = sub.retry_count + 1
    return {"retry_count": done, "next_retry_at": ctx.policy.retry_at(sub.period_end, done)}


def _deadline(sub: Subscription, what: str) -> datetime | None:
    return {"grace period": sub.grace_until, "suspension": sub.suspended_until,
            "period": sub.period_end}[what]  # fmt: skip


def _over(what: str) -> Effect:
    """A time-based event's guard: what it ends must be over (a re-decided race may find a
    new period, say, where the scheduler saw one ending)."""

    def check(sub: Subscription, ctx: Context) -> dict[str, Any]:
        deadline = _deadline(sub, what)
        if deadline is None or ctx.now < deadline:
            raise InvalidTransition(sub.state, Event(ctx.args["event"]), f"the {what} is not over")
        return {}

    return check


def _grace_ended(sub: Subscription, ctx: Context) -> dict[str, Any]:
    _over("grace period")(sub, ctx)
    assert sub.grace_until is not None
    return {"next_retry_at": None, "suspended_until": sub.grace_until + ctx.policy.suspended}


def _resume(sub: Subscription, ctx: Context) -> dict[str, Any]:
    if ctx.now >= sub.period_end:
        raise InvalidTransition(sub.state, Event.RESUME, "the period has ended: subscribe again")
    return {}


def _change_plan(sub: Subscription, ctx: Context) -> dict[str, Any]:
    plan: str = ctx.args["plan"]
    if plan == sub.plan:  # back to the current plan: a pending downgrade is dropped
        return {"pending_plan": None}
    if ctx.policy.plans.rank(plan) > ctx.policy.plans.rank(sub.plan):
        return {
            "plan": plan, "pending_plan": None, "period_start": ctx.now,
            "period_end": ctx.policy.period_after(ctx.now, plan),
        }  # fmt: skip
    return {"pending_plan": plan}


EFFECTS: dict[Event, Effect] = {
    Event.RENEWAL_PAID: _new_period,
    Event.PAYMENT_METHOD_PAID: _new_period,
    Event.RENEWAL_FAILED: _renewal_failed,
    Event.PAYMENT_RETRY_FAILED: _retry_failed,
    Event.GRACE_ENDED: _grace_ended,
    Event.SUSPENSION_ENDED: _over("suspension"),
    Event.PERIOD_ENDED: _over("period"),
    Event.CANCEL: lambda sub, ctx: {},
    Event.RESUME: _resume,
    Event.CHANGE_PLAN: _change_plan,
    Event.PAYMENT_METHOD_UPDATED: lambda sub, ctx: {"payment_method": ctx.args["payment_method"]},
}


def decide(sub: Subscription, event: Event, ctx: Context) -> tuple[StateName, dict[str, Any]]:
    """Where `event` takes `sub`, and the columns it changes; InvalidTransition if refused."""
    to_state = state(sub.state).next_state(event)
    changes = EFFECTS[event](sub, Context(ctx.now, ctx.policy, {**ctx.args, "event": event}))
    return to_state, changes


def _detail(changes: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    shown = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in changes.items()}
    return {**shown, **extra}


async def announce(notifier: notify.Notifier | None, sub: Subscription, event: Event) -> None:
    """Tell the account's sockets (streamcore/notify.py); never fails the transition."""
    if notifier is not None:
        data = {"state": sub.state, "plan": sub.plan, "event": event, "subscription_id": sub.id}
        await notifier.publish(notify.subscription(sub.account_id), "transition", data)


async def apply(
    pool: asyncpg.Pool,
    subscription_id: UUID,
    event: Event,
    *,
    source: str,
    now: datetime,
    policy: Policy,
    args: Mapping[str, Any] | None = None,
    key: str | None = None,
    detail: Mapping[str, Any] | None = None,
    also: Mapping[str, Any] | None = None,
    guard: Callable[[Subscription], None] | None = None,
    notifier: notify.Notifier | None = None,
) -> Applied:
    """Applies `event` once (see the module's docstring). `also`: columns to set with it
    (a webhook's last_provider_event_at); `guard`: called with the row each time it is read
    (after a lost race too), it may raise to refuse the event; `notifier`: where the
    transition is announced, after its commit, to the account's sockets."""
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: one of {', '.join(SOURCES)}")
    ctx = Context(now, policy, dict(args or {}))
    async with pool.acquire() as conn:
        for _ in range(MAX_ATTEMPTS):
            current = await queries.subscription(conn, subscription_id)
            if current is None:
                raise NotFound(f"no subscription with id {subscription_id}")
            if key is not None and await queries.has_event_key(conn, subscription_id, key):
                return Applied(current, event, current.state, duplicate=True)
            if guard is not None:
                guard(current)
            to_state, changes = decide(current, event, ctx)
            changes = {**changes, **(also or {})}
            row = writes.EventRow(
                event, current.state, to_state, source, now, _detail(changes, detail or {}), key
            )
            try:
                after = await writes.transition(conn, current, to_state, changes, row)
            except writes.DuplicateKey:
                continue  # a concurrent writer applied the same key: re-read reports it
            if after is not None:
                await announce(notifier, after, event)
                return Applied(after, event, current.state)
            log.info("subscription %s: lost a race applying %s; deciding again", current.id, event)
    raise LostRace(f"subscription {subscription_id}: {event} kept losing races")
