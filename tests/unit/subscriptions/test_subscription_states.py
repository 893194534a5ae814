"""The lifecycle's states (subscriptions/states.py), its pure decisions
(subscriptions/lifecycle.py `decide`), and the generated diagram in docs/subscriptions.md."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from streamcore.settings import Settings
from subscriptions import diagram
from subscriptions.lifecycle import Context, decide
from subscriptions.policy import Policy, add_months
from subscriptions.records import Subscription
from subscriptions.states import STATES, Event, InvalidTransition, StateName, legal, state

NOW = datetime(2026, 1, 31, 12, tzinfo=UTC)
S, E = StateName, Event


def sub(state_name: StateName, **values: object) -> Subscription:
    fields: dict[str, object] = {
        "id": uuid.uuid4(), "account_id": uuid.uuid4(), "plan": "standard", "state": state_name,
        "version": 3, "period_start": NOW - timedelta(days=30), "period_end": NOW,
        "pending_plan": None, "payment_method": "pm_card_visa", "customer_id": "cus_1",
        "retry_count": 0, "next_retry_at": None, "grace_until": None, "suspended_until": None,
        "last_provider_event_at": None, "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip
    return Subscription(**{**fields, **values})  # type: ignore[arg-type]


@pytest.fixture
def policy(settings: Settings) -> Policy:
    return Policy.from_settings(settings)


def test_access_follows_the_state() -> None:
    later, earlier = NOW + timedelta(days=1), NOW - timedelta(days=1)
    assert state(S.ACTIVE).grants_plan(NOW, earlier)
    assert state(S.GRACE_PERIOD).grants_plan(NOW, earlier)
    assert state(S.CANCELLED).grants_plan(NOW, later)
    assert not state(S.CANCELLED).grants_plan(NOW, earlier)
    assert not state(S.SUSPENDED).grants_plan(NOW, later)
    assert not state(S.EXPIRED).grants_plan(NOW, later)


def test_each_state_refuses_what_it_does_not_accept() -> None:
    with pytest.raises(InvalidTransition, match="state Expired does not accept resume"):
        state(S.EXPIRED).next_state(E.RESUME)
    assert state(S.ACTIVE).next_state(E.RENEWAL_FAILED) is S.GRACE_PERIOD
    assert state(S.GRACE_PERIOD).next_state(E.GRACE_ENDED) is S.SUSPENDED
    assert state(S.SUSPENDED).next_state(E.SUSPENSION_ENDED) is S.EXPIRED
    assert state(S.CANCELLED).next_state(E.PERIOD_ENDED) is S.EXPIRED
    assert not state(S.ACTIVE).accepts(E.RESUME)
    assert set(STATES) == set(StateName)


def test_legal_knows_the_creation_and_every_arrow() -> None:
    assert legal(None, E.SUBSCRIBE, S.ACTIVE)
    assert not legal(None, E.SUBSCRIBE, S.CANCELLED)
    for cls in STATES.values():
        for event in Event:
            target = cls.transitions.get(event)
            for to_state in StateName:
                assert legal(cls.name, event, to_state) == (to_state is target)


def test_a_failed_renewal_follows_the_dunning_schedule(policy: Policy) -> None:
    ctx = Context(NOW, policy)
    to_state, changes = decide(sub(S.ACTIVE), E.RENEWAL_FAILED, ctx)
    assert to_state is S.GRACE_PERIOD
    assert changes["next_retry_at"] == NOW + policy.dunning[0]
    assert changes["grace_until"] == NOW + policy.grace
    grace = sub(S.GRACE_PERIOD, retry_count=len(policy.dunning) - 1, grace_until=NOW)
    assert decide(grace, E.PAYMENT_RETRY_FAILED, ctx)[1]["next_retry_at"] is None
    with pytest.raises(InvalidTransition, match="grace period is not over"):
        decide(sub(S.GRACE_PERIOD, grace_until=NOW + timedelta(days=1)), E.GRACE_ENDED, ctx)
    to_state, changes = decide(grace, E.GRACE_ENDED, ctx)
    assert (to_state, changes["suspended_until"]) == (S.SUSPENDED, NOW + policy.suspended)


def test_renewals_extend_the_period_and_apply_a_pending_downgrade(policy: Policy) -> None:
    ctx = Context(NOW, policy)
    _, changes = decide(sub(S.ACTIVE, pending_plan="basic"), E.RENEWAL_PAID, ctx)
    assert changes["plan"] == "basic" and changes["pending_plan"] is None
    assert changes["period_start"] == NOW and changes["period_end"] == add_months(NOW, 1)
    assert add_months(NOW, 1) == datetime(2026, 2, 28, 12, tzinfo=UTC)
    # After a suspension the paid period starts now: unpaid time is not given back.
    later = Context(NOW + timedelta(days=20), policy)
    _, changes = decide(sub(S.SUSPENDED), E.PAYMENT_METHOD_PAID, later)
    assert changes["period_start"] == later.now


def test_a_charge_renews_the_period_it_was_for_once(policy: Policy) -> None:
    renewed = sub(S.CANCELLED, period_end=NOW + timedelta(days=30))
    late = Context(NOW, policy, {"for_period": NOW})  # the charge was for the period due NOW
    with pytest.raises(InvalidTransition, match="that period is renewed"):
        decide(renewed, E.RENEWAL_PAID, late)
    assert decide(sub(S.CANCELLED), E.RENEWAL_PAID, late)[0] is S.CANCELLED


def test_upgrades_apply_at_once_and_downgrades_wait(policy: Policy) -> None:
    ctx = Context(NOW, policy, {"plan": "premium"})
    _, up = decide(sub(S.ACTIVE), E.CHANGE_PLAN, ctx)
    assert up["plan"] == "premium" and up["period_start"] == NOW
    _, down = decide(sub(S.ACTIVE), E.CHANGE_PLAN, Context(NOW, policy, {"plan": "basic"}))
    assert down == {"pending_plan": "basic"}
    same = Context(NOW, policy, {"plan": "standard"})
    assert decide(sub(S.ACTIVE, pending_plan="basic"), E.CHANGE_PLAN, same)[1] == {
        "pending_plan": None
    }


def test_resuming_needs_the_period_not_over(policy: Policy) -> None:
    cancelled = sub(S.CANCELLED, period_end=NOW + timedelta(hours=1))
    assert decide(cancelled, E.RESUME, Context(NOW, policy))[0] is S.ACTIVE
    with pytest.raises(InvalidTransition, match="period has ended"):
        decide(cancelled, E.RESUME, Context(NOW + timedelta(hours=2), policy))


def test_the_documented_diagram_is_current() -> None:
    document = diagram.DOC.read_text(encoding="utf-8")
    assert diagram.render(document) == document, "run: python -m subscriptions.diagram --write"
    for cls in STATES.values():
        for event, target in cls.transitions.items():
            assert f"{cls.name} --> {target}: {event}" in document
