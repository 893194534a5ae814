"""Which failures are transient: the one definition, used by every retry in StreamCore.

Transient: the failure is the infrastructure's, not the work's, and may pass by itself: a
service that is down, restarting, full or unreachable, a network that drops or times out.
The worker retries these with exponential back-off (workers/tasks.py), the catalog API turns
the database's into 503 + Retry-After, the replica routing reads elsewhere.

Everything else is permanent: bad media (the asset fails at once, with the probe's reason),
FFmpeg failing on a source that probed fine (it fails the same way next time), a missing
object, a bug. A permanent failure is not retried: its task lands in the dead letters
(`streamcore jobs dead`) with its error, unless the work itself records the reason (an asset
marked failed).

Boundaries translate vendor errors into subclasses of `Transient` (StorageUnavailable,
CdnUnavailable); what escapes them untranslated (driver and socket errors) is listed below.
Deliberately absent: a bare OSError (a full disk or a missing scratch folder is no network
blip) and asyncpg's InterfaceError (misuse of a connection: a bug; a closed connection raises
ConnectionDoesNotExistError, a PostgresConnectionError).
"""

from __future__ import annotations

import socket

import asyncpg
import redis


class Transient(Exception):
    """Base of our own errors that mean "the service could not serve us; try again later"."""


# The PostgreSQL server cannot serve us (down, starting, shutting down, full, connection lost),
# as opposed to a bad query.
POSTGRES_UNAVAILABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
)
# Redis (the cache, the broker, the dead letters) cannot be reached or did not answer in time.
REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (redis.ConnectionError, redis.TimeoutError)
# The network: refused, reset or broken connections, no answer in time, a name not resolved.
NETWORK: tuple[type[BaseException], ...] = (ConnectionError, TimeoutError, socket.gaierror)

TRANSIENT: tuple[type[BaseException], ...] = (
    Transient,
    *POSTGRES_UNAVAILABLE,
    *REDIS_UNAVAILABLE,
    *NETWORK,
)


def is_transient(exc: BaseException) -> bool:
    """Worth another try later (with back-off); False: retrying cannot help."""
    return isinstance(exc, TRANSIENT)


def describe(exc: BaseException) -> str:
    """`Type: first line of the message`, for logs, dead letters and an asset's error."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
