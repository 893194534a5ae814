"""PostgreSQL access: asyncpg pools are created here, and only here, from settings.

`Database` holds one pool for the primary (writes, transactions) and one per read replica, and
sends each read where `ReadPolicy` (streamcore/db/read_routing.py) says: replicas in turn,
skipping any that is down or lags, and the primary for a caller who just wrote or when no
replica is usable. Every pool is opened on one service's schema (streamcore/db/schemas.py),
replicas' pools on the same one as the primary's. See docs/database.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import asyncpg

from streamcore.db.read_routing import ReadPolicy, ServerHealth, replica_state
from streamcore.db.schemas import Schema, server_settings
from streamcore.failures import POSTGRES_UNAVAILABLE, Transient, describe
from streamcore.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

# A read waits this long for a replica's connection before trying elsewhere: a hung or
# saturated replica must cost a request little, since the primary can always serve it.
REPLICA_ACQUIRE_TIMEOUT_S = 2.0
# Opening a replica's pool, and each health probe, give up after this.
REPLICA_CONNECT_TIMEOUT_S = 5.0
# A read tries at most this many replicas (each failure marks that one down), then the primary.
MAX_REPLICA_ATTEMPTS = 2
# The server cannot serve us (streamcore/failures.py: the one list of what is transient), or
# cannot be reached: a read fails over on any socket error, whatever its errno.
_UNAVAILABLE: tuple[type[BaseException], ...] = (OSError, *POSTGRES_UNAVAILABLE)


class DatabaseUnavailable(Transient, ConnectionError):
    """No connection to the server could be opened (refused, unreachable, no answer)."""


# A standby cancels a query whose rows WAL replay must remove ("conflict with recovery"); the
# replica is fine, the read just has to run elsewhere.
_RECOVERY_CONFLICT = (asyncpg.exceptions.SerializationError,)
# ... and what else means "use another server" when it happens while getting a connection.
_NO_CONNECTION: tuple[type[BaseException], ...] = (*_UNAVAILABLE, TimeoutError)
# The connection broke under a read. A FATAL the server sends to an idle connection (shutdown)
# leaves asyncpg's protocol unusable: the next query raises InternalClientError. InterfaceError
# also covers misuse (wrong argument count): see _on_replica.
_BROKEN: tuple[type[BaseException], ...] = (
    *_UNAVAILABLE,
    asyncpg.exceptions.InternalClientError,
    asyncpg.InterfaceError,
)
# For callers that can answer without the database (a cache's last-known value): the errors
# that mean no server could answer, as opposed to a bad query.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (*_BROKEN, TimeoutError)


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come back as Python objects, not strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _new_pool(
    settings: Settings, dsn: str, schema: Schema, min_size: int, max_size: int, **kw: Any
) -> Any:
    # Not awaited yet: awaiting it connects min_size connections (and cleans up if that fails).
    return asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=settings.postgres.command_timeout_s,
        init=_init_connection,
        server_settings=server_settings(schema),
        **kw,
    )


async def create_pool(
    settings: Settings,
    dsn: str | None = None,
    *,
    schema: Schema,
    min_size: int | None = None,
    max_size: int | None = None,
) -> asyncpg.Pool:
    """A pool on `schema`'s tables, sized by settings unless told otherwise (workers open
    small ones per task). Every pool names its schema: there is no default to fall into."""
    max_size = max_size or settings.postgres.pool_max_size
    min_size = min(settings.postgres.pool_min_size if min_size is None else min_size, max_size)
    try:
        pool = await _new_pool(settings, dsn or settings.postgres_dsn, schema, min_size, max_size)
    except OSError as exc:
        # Connecting raises the socket's error: for a host name with several addresses, a bare
        # OSError listing them all. Named here, so that callers know to retry.
        raise DatabaseUnavailable(f"cannot connect to PostgreSQL: {exc}") from exc
    assert pool is not None
    return pool


@asynccontextmanager
async def pool_context(
    settings: Settings,
    *,
    schema: Schema,
    min_size: int | None = None,
    max_size: int | None = None,
) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(settings, schema=schema, min_size=min_size, max_size=max_size)
    try:
        yield pool
    finally:
        await pool.close()


async def connect(
    settings: Settings, dsn: str | None = None, *, schema: Schema | None = None
) -> asyncpg.Connection:
    """A single connection, for one-off work (migrations, CLI commands). Without `schema`, the
    server's default search_path: what migrations want (their bookkeeping is in public)."""
    conn = await asyncpg.connect(
        dsn or settings.postgres_dsn,
        timeout=10,
        server_settings=server_settings(schema) if schema is not None else None,
    )
    await _init_connection(conn)
    return conn


async def ensure_database(settings: Settings) -> bool:
    """Create the configured database on the stack's own server if missing; True if created."""
    admin_dsn = settings.postgres_dsn.rsplit("/", 1)[0] + "/postgres"
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", settings.postgres.database
        )
        if exists:
            return False
        name = settings.postgres.database.replace('"', '""')
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


@dataclass(frozen=True)
class PoolStats:
    """One pool's state, for /metrics."""

    name: str  # "primary", "replica-1", ...
    role: Literal["primary", "replica"]
    healthy: bool
    lag_s: float | None
    size: int  # open connections
    idle: int
    used: int
    max_size: int
    reason: str | None = None


@dataclass
class _Replica:
    name: str
    dsn: str
    pool: asyncpg.Pool | None = None
    checked: asyncio.Event | None = None  # set after the first health probe


class _ReplicaFailed(Exception):
    """This replica could not run the read; try the next choice."""


class Database:
    """The primary pool for writes, and the routing of reads over the replicas.

    `reader(actor)` is the pool a read should use; `wrote(actor)` records that the actor just
    wrote, so that its reads see the write. `fetch`, `fetchrow` and `fetchval` also fail over:
    a replica that breaks mid-read is marked down and the read runs on the next choice.
    """

    def __init__(
        self,
        settings: Settings,
        primary: asyncpg.Pool,
        replica_dsns: Sequence[str] | None = None,
        *,
        schema: Schema,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.primary = primary
        # The replicas' pools see the same schema as the primary's (`primary` was opened on it).
        self.schema = schema
        dsns = settings.postgres_replica_dsns if replica_dsns is None else replica_dsns
        self._replicas = {
            f"replica-{i}": _Replica(f"replica-{i}", dsn) for i, dsn in enumerate(dsns, 1)
        }
        self.policy = ReadPolicy(
            list(self._replicas),
            max_lag_s=settings.postgres.replica_max_lag_s,
            read_your_writes_s=settings.postgres.read_your_writes_s,
            clock=clock,
        )
        self._primary_health = ServerHealth(True, None, None)
        self._watchers: list[asyncio.Task[None]] = []

    # -- routing ----------------------------------------------------------------------------

    def reader(self, actor: str | None = None) -> asyncpg.Pool:
        """The pool for `actor`'s next read (no failover: prefer `fetch` & co. for that)."""
        name = self.policy.choose(actor)
        pool = self._replicas[name].pool if name is not None else None
        return pool or self.primary

    def wrote(self, actor: str | None) -> None:
        """Call after a committed write: `actor`'s reads go to the primary for a while."""
        self.policy.wrote(actor)

    async def fetch(self, query: str, *args: Any, actor: str | None = None) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self._read(actor, lambda conn: conn.fetch(query, *args))
        return rows

    async def fetchrow(
        self, query: str, *args: Any, actor: str | None = None
    ) -> asyncpg.Record | None:
        return await self._read(actor, lambda conn: conn.fetchrow(query, *args))

    async def fetchval(self, query: str, *args: Any, actor: str | None = None) -> Any:
        return await self._read(actor, lambda conn: conn.fetchval(query, *args))

    async def _read(self, actor: str | None, run: Callable[[Any], Awaitable[T]]) -> T:
        tried: list[str] = []
        while len(tried) < MAX_REPLICA_ATTEMPTS:
            name = self.policy.choose(actor, exclude=tried)
            if name is None:
                break
            tried.append(name)
            with contextlib.suppress(_ReplicaFailed):
                return await self._on_replica(self._replicas[name], run)
        # The last resort: the primary's errors are the caller's to handle.
        async with self.primary.acquire(timeout=self.settings.postgres.command_timeout_s) as conn:
            return await run(conn)

    async def _on_replica(self, replica: _Replica, run: Callable[[Any], Awaitable[T]]) -> T:
        pool = replica.pool
        if pool is None:  # dropped by a failed probe (or closing) since it was chosen
            raise _ReplicaFailed
        try:
            conn = await pool.acquire(timeout=REPLICA_ACQUIRE_TIMEOUT_S)
        except _NO_CONNECTION as exc:
            self._mark_down(replica, exc)
            raise _ReplicaFailed from exc
        try:
            return await run(conn)
        except _RECOVERY_CONFLICT as exc:
            log.info(
                "%s cancelled a read (conflict with recovery); reading elsewhere", replica.name
            )
            raise _ReplicaFailed from exc
        except _BROKEN as exc:
            # Only a closed connection makes an InterfaceError the server's fault.
            if isinstance(exc, asyncpg.InterfaceError) and not conn.is_closed():
                raise
            self._mark_down(replica, exc)
            raise _ReplicaFailed from exc
        finally:
            # Releasing a broken connection can raise; asyncpg has terminated it either way.
            with contextlib.suppress(*_BROKEN):
                await pool.release(conn)

    # -- health -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the replicas' pools and watch them; wait (briefly) for a first verdict on each."""
        self._watchers = [asyncio.create_task(self._watch_primary(), name="db-health-primary")]
        for replica in self._replicas.values():
            replica.checked = asyncio.Event()
            self._watchers.append(
                asyncio.create_task(self._watch(replica), name=f"db-health-{replica.name}")
            )
        # A replica that is down must not hold up the start; it joins the rotation later.
        waits = [r.checked.wait() for r in self._replicas.values() if r.checked is not None]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), REPLICA_CONNECT_TIMEOUT_S)

    async def close(self) -> None:
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)
        self._watchers = []
        for replica in self._replicas.values():
            if replica.pool is not None:
                await _close_pool(replica.pool)
                replica.pool = None

    async def check_replica(self, name: str) -> None:
        """Probe one replica now (the watchers do this every replica_check_interval_s)."""
        replica = self._replicas[name]
        try:
            if replica.pool is None:
                replica.pool = await self._open(replica)
            async with (
                asyncio.timeout(REPLICA_CONNECT_TIMEOUT_S),
                replica.pool.acquire() as conn,
            ):
                state = await replica_state(conn)
        except Exception as exc:  # whatever stops the probe makes the replica unusable
            self._mark_down(replica, exc)
            # Start afresh once it answers again: a pool left open on a dead server keeps
            # reconnecting (and logging) by itself, and holds connections that all broke.
            if replica.pool is not None:
                replica.pool.terminate()
                replica.pool = None
            return
        was_healthy = self.policy.is_healthy(name)
        self.policy.observe(name, state)
        if self.policy.is_healthy(name) and not was_healthy:
            log.info("%s is in the read rotation (lag %.1f s)", name, state.lag_s or 0.0)
        elif was_healthy and not self.policy.is_healthy(name):
            log.warning("%s left the read rotation: %s", name, self.policy.health[name].reason)

    async def _watch(self, replica: _Replica) -> None:
        interval = self.settings.postgres.replica_check_interval_s
        while True:
            await self.check_replica(replica.name)
            if replica.checked is not None:
                replica.checked.set()
            await asyncio.sleep(interval)

    async def _watch_primary(self) -> None:
        # Routing never avoids the primary; this only tells /metrics whether it answers.
        while True:
            try:
                async with self.primary.acquire(timeout=REPLICA_CONNECT_TIMEOUT_S) as conn:
                    await conn.fetchval("SELECT 1", timeout=REPLICA_CONNECT_TIMEOUT_S)
                self._primary_health = ServerHealth(True, None, None)
            except Exception as exc:  # any failure to answer is, by definition, unhealthy
                self._primary_health = ServerHealth(False, None, describe(exc))
            await asyncio.sleep(self.settings.postgres.replica_check_interval_s)

    async def _open(self, replica: _Replica) -> asyncpg.Pool:
        postgres = self.settings.postgres
        pool = _new_pool(
            self.settings,
            replica.dsn,
            self.schema,
            min(postgres.pool_min_size, postgres.pool_max_size),
            postgres.pool_max_size,
            timeout=REPLICA_CONNECT_TIMEOUT_S,  # per connection attempt
        )
        await asyncio.wait_for(pool, REPLICA_CONNECT_TIMEOUT_S * 2)
        return pool

    def _mark_down(self, replica: _Replica, exc: BaseException) -> None:
        was_healthy = self.policy.is_healthy(replica.name)
        self.policy.mark_down(replica.name, describe(exc))
        if was_healthy:
            log.warning("%s left the read rotation: %s", replica.name, describe(exc))

    # -- metrics ----------------------------------------------------------------------------

    def stats(self) -> list[PoolStats]:
        """Each pool's health and connection counts, the primary first."""
        rows = [_pool_stats("primary", "primary", self.primary, self._primary_health)]
        for name, replica in self._replicas.items():
            rows.append(_pool_stats(name, "replica", replica.pool, self.policy.health[name]))
        return rows


def _pool_stats(
    name: str,
    role: Literal["primary", "replica"],
    pool: asyncpg.Pool | None,
    health: ServerHealth,
) -> PoolStats:
    size = pool.get_size() if pool is not None else 0
    idle = pool.get_idle_size() if pool is not None else 0
    max_size = pool.get_max_size() if pool is not None else 0
    return PoolStats(
        name, role, health.healthy, health.lag_s, size, idle, size - idle, max_size, health.reason
    )


async def _close_pool(pool: asyncpg.Pool, timeout_s: float = 10.0) -> None:
    # close() waits for borrowed connections; a hung server must not hang the shutdown.
    try:
        await asyncio.wait_for(pool.close(), timeout_s)
    except _NO_CONNECTION:
        pool.terminate()


@asynccontextmanager
async def database_context(settings: Settings, *, schema: Schema) -> AsyncIterator[Database]:
    """The primary's pool and the replicas' routing, every pool on `schema`'s tables."""
    async with pool_context(settings, schema=schema) as primary:
        db = Database(settings, primary, schema=schema)
        try:
            await db.start()
            yield db
        finally:
            await db.close()
