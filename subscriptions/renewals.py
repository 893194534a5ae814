"""The time-based transitions, run by the scheduler's tick (subscriptions/worker.py) and by
``POST /v1/admin/subscriptions/tick``.

Each pass finds what is due at `now`, kind by kind (`queries.DUE`): renewals of Active
subscriptions at their period end (a pending downgrade takes effect there), dunning retries
in GracePeriod, ends of grace (Suspended) and of suspension (Expired), and period ends while
Cancelled (Expired). Every subscription found is re-read and decided by the lifecycle, and
every charge carries an idempotency key naming the subscription and the period, so the tick
is idempotent and safe beside users, webhooks and another tick: whoever loses a race finds
the event refused or already applied, and skips it. Passes repeat until one changes nothing,
so a clock moved by weeks is caught up in one tick.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from streamcore import notify
from streamcore.db.database import UNAVAILABLE_ERRORS
from subscriptions import lifecycle, payments, queries
from subscriptions.billing.port import BillingProvider, InvalidPaymentMethod, ProviderUnavailable
from subscriptions.policy import Policy
from subscriptions.records import Subscription
from subscriptions.states import Event, InvalidTransition

log = logging.getLogger(__name__)

BATCH = 500
MAX_PASSES = 50
SOURCE = "scheduler"


class Tick:
    def __init__(
        self, pool: asyncpg.Pool, provider: BillingProvider, policy: Policy, now: datetime,
        notifier: notify.Notifier | None = None,
    ) -> None:  # fmt: skip
        self.pool, self.provider, self.policy, self.now = pool, provider, policy, now
        self.notifier = notifier
        self.counts: Counter[str] = Counter()
        self.changed = 0  # transitions made (not skipped, not duplicates)

    async def _apply(self, sub: Subscription, event: Event, **kw: object) -> None:
        try:
            applied = await lifecycle.apply(
                self.pool, sub.id, event, source=SOURCE, now=self.now, policy=self.policy,
                notifier=self.notifier, **kw,  # type: ignore[arg-type]
            )  # fmt: skip
        except (InvalidTransition, lifecycle.LostRace, lifecycle.NotFound) as exc:
            # Someone else moved it first (a user, a webhook, another tick): nothing to do.
            log.info("tick: subscription %s: %s skipped: %s", sub.id, event, exc)
            self.counts["skipped"] += 1
            return
        self.counts["duplicate" if applied.duplicate else str(event)] += 1
        self.changed += not applied.duplicate

    async def _charge_and_apply(
        self, sub: Subscription, key: str, paid: Event, declined: Event
    ) -> None:
        plan = sub.pending_plan or sub.plan
        try:
            result = await payments.charge(
                self.pool, self.provider, self.policy, sub, plan=plan,
                period_start=sub.period_end, key=key,
            )  # fmt: skip
        except InvalidPaymentMethod as exc:
            await self._apply(sub, declined, key=f"invalid:{key}", detail={"reason": str(exc)})
            return
        except ProviderUnavailable as exc:
            log.warning("tick: subscription %s: the provider is unavailable: %s", sub.id, exc)
            self.counts["unavailable"] += 1
            return
        charge = result.charge
        if charge.paid:
            args = {"plan": plan, "for_period": sub.period_end}
            await self._apply(sub, paid, key=result.event_key, args=args,
                              detail={"charge_id": charge.id})  # fmt: skip
        else:
            await self._apply(
                sub, declined, key=result.event_key,
                detail={"charge_id": charge.id, "failure_code": charge.failure_code},
            )  # fmt: skip

    async def renewal(self, sub: Subscription) -> None:
        key = f"renewal:{sub.id}:{sub.period_end.isoformat()}"
        await self._charge_and_apply(sub, key, Event.RENEWAL_PAID, Event.RENEWAL_FAILED)

    async def retry(self, sub: Subscription) -> None:
        key = f"retry:{sub.id}:{sub.period_end.isoformat()}:{sub.retry_count + 1}"
        await self._charge_and_apply(sub, key, Event.RENEWAL_PAID, Event.PAYMENT_RETRY_FAILED)

    async def grace_end(self, sub: Subscription) -> None:
        await self._apply(sub, Event.GRACE_ENDED)

    async def suspension_end(self, sub: Subscription) -> None:
        await self._apply(sub, Event.SUSPENSION_ENDED)

    async def period_end(self, sub: Subscription) -> None:
        await self._apply(sub, Event.PERIOD_ENDED)

    def handlers(self) -> dict[str, Callable[[Subscription], Awaitable[None]]]:
        # The order of a pass: charges first, so that a paid retry beats the grace's end.
        return {
            "renewal": self.renewal, "retry": self.retry, "grace_end": self.grace_end,
            "suspension_end": self.suspension_end, "period_end": self.period_end,
        }  # fmt: skip

    async def one_pass(self) -> int:
        """Handles everything due now, once; how many subscriptions were looked at."""
        seen = 0
        for kind, handle in self.handlers().items():
            # Each as found due: a row re-read now may be a period further on (renewed by
            # someone else meanwhile), and charging that one would charge a period early.
            for sub in await queries.due(self.pool, kind, self.now, BATCH):
                seen += 1
                try:
                    await handle(sub)
                except UNAVAILABLE_ERRORS:
                    raise  # the database is gone: the next tick starts over
                except Exception:
                    # One bad row (a plan removed from plans.yaml, say) must not hold up the
                    # others; it is logged, and tried again by the next tick.
                    log.exception("tick: subscription %s: %s failed", sub.id, kind)
                    self.counts["errors"] += 1
        return seen


async def tick(
    pool: asyncpg.Pool, provider: BillingProvider, policy: Policy, now: datetime,
    notifier: notify.Notifier | None = None,
) -> dict[str, int]:  # fmt: skip
    """Every time-based transition due at `now`; counts of what was done, by event (each
    announced through `notifier`)."""
    run = Tick(pool, provider, policy, now, notifier)
    for _ in range(MAX_PASSES):
        before = run.changed
        if not await run.one_pass() or run.changed == before:
            break
    return dict(run.counts)
