"""Where a read goes: the replicas' health and lag, and read-your-writes, without any I/O
but the one probe query, so that tests drive the policy directly. Used by streamcore.db.database.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import asyncpg

# Writers remembered for read-your-writes; beyond this the oldest are forgotten (bounded memory).
MAX_RECENT_WRITERS = 100_000

# "Is this a standby, and how far behind?" Streaming with everything received replayed means
# no lag, however long ago the last write was. (Received "<=" replayed, not "=": a restarted
# standby resumes streaming at the start of a WAL segment, behind what it already replayed.)
# Otherwise: the age of the last replayed transaction; NULL if it never replayed one.
REPLICA_STATE_SQL = """
SELECT pg_is_in_recovery() AS in_recovery,
       CASE WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
                 AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0.0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
       END AS lag_s
"""


@dataclass(frozen=True)
class ReplicaState:
    in_recovery: bool
    lag_s: float | None  # None: not streaming from the primary (yet)


async def replica_state(conn: asyncpg.Connection) -> ReplicaState:
    row = await conn.fetchrow(REPLICA_STATE_SQL)
    return ReplicaState(in_recovery=row["in_recovery"], lag_s=row["lag_s"])


def replica_problem(state: ReplicaState, max_lag_s: float) -> str | None:
    """Why reads should not go to this replica, or None if they may."""
    if not state.in_recovery:
        return "not a standby: pg_is_in_recovery() is false"
    if state.lag_s is None:
        return "not streaming from the primary yet"
    if state.lag_s > max_lag_s:
        return f"{state.lag_s:.1f} s behind the primary (limit {max_lag_s:g} s)"
    return None


@dataclass
class ServerHealth:
    healthy: bool = False
    lag_s: float | None = None
    reason: str | None = "not checked yet"


class ReadPolicy:
    """Which server a read goes to. Pure bookkeeping without I/O, so tests drive it directly.

    `choose` returns a replica's name, or None for the primary.
    """

    def __init__(
        self,
        replicas: Sequence[str],
        *,
        max_lag_s: float,
        read_your_writes_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_writers: int = MAX_RECENT_WRITERS,
    ) -> None:
        self.health = {name: ServerHealth() for name in replicas}
        self._max_lag_s = max_lag_s
        self._window_s = read_your_writes_s
        self._clock = clock
        self._max_writers = max_writers
        self._turn = 0
        # actor -> when it last wrote, oldest first, so that expiry trims from the front.
        self._writers: OrderedDict[str, float] = OrderedDict()

    def observe(self, name: str, state: ReplicaState) -> None:
        """Record a health probe's answer."""
        reason = replica_problem(state, self._max_lag_s)
        self.health[name] = ServerHealth(reason is None, state.lag_s, reason)

    def mark_down(self, name: str, reason: str) -> None:
        self.health[name] = ServerHealth(False, None, reason)

    def is_healthy(self, name: str) -> bool:
        return self.health[name].healthy

    def wrote(self, actor: str | None) -> None:
        if actor is None:  # anonymous callers share nothing, so they never stick
            return
        now = self._clock()
        self._writers[actor] = now
        self._writers.move_to_end(actor)
        self._forget_expired(now)
        while len(self._writers) > self._max_writers:
            self._writers.popitem(last=False)

    def sticky(self, actor: str | None) -> bool:
        """True while the actor's own recent write may not have reached the replicas."""
        if actor is None:
            return False
        wrote_at = self._writers.get(actor)
        return wrote_at is not None and self._clock() - wrote_at < self._window_s

    def choose(self, actor: str | None = None, *, exclude: Sequence[str] = ()) -> str | None:
        if self.sticky(actor):
            return None
        usable = [n for n, h in self.health.items() if h.healthy and n not in exclude]
        if not usable:
            return None
        name = usable[self._turn % len(usable)]
        self._turn += 1
        return name

    def _forget_expired(self, now: float) -> None:
        while self._writers:
            oldest, wrote_at = next(iter(self._writers.items()))
            if now - wrote_at < self._window_s:
                return
            del self._writers[oldest]
