"""The local PostgreSQL's streaming replicas: names, data folders, ports, DSNs, server options.

`streamcore up --replicas N` (stack.postgres_replicas) runs N hot standbys beside the primary.
Replica i (from 1) listens on stack.postgres_port + i and keeps its own data folder, cloned
from the running primary by bootstrap.clone_replicas(); it replays the primary's WAL as it
streams in. services.py makes each one a service of Tier.REPLICAS, started once the primary is
healthy.
"""

from __future__ import annotations

from pathlib import Path

from streamcore.settings import Settings

# What a replica's server runs with, on top of what every PostgreSQL of the stack runs with.
STANDBY_OPTIONS = (
    # Answer read-only queries while replaying the primary's WAL.
    "-c", "hot_standby=on",
    # Tell the primary which rows our queries still see, so that its vacuum does not
    # remove them and replay does not cancel our reads ("conflict with recovery").
    "-c", "hot_standby_feedback=on",
)  # fmt: skip


def replica_indexes(settings: Settings) -> range:
    """The local replicas, from 1: as many as stack.postgres_replicas."""
    return range(1, settings.stack.postgres_replicas + 1)


def replica_name(index: int) -> str:
    return f"postgres-replica-{index}"


def postgres_replica_data_dir(settings: Settings, index: int) -> Path:
    return settings.stack.data_dir / replica_name(index)


def replica_port(settings: Settings, index: int) -> int:
    return settings.stack.postgres_port + index


def replica_dsn(settings: Settings, index: int) -> str:
    """The local replica's DSN (the settings list external replicas first, then the local)."""
    local = settings.postgres_replica_dsns[-settings.stack.postgres_replicas :]
    return local[index - 1]


def replica_ports(settings: Settings) -> dict[int, str]:
    """The TCP port of each local replica, with the replica that needs it."""
    return {
        replica_port(settings, index): f"{replica_name(index)} (stack.postgres_port + {index})"
        for index in replica_indexes(settings)
    }


def primary_options(settings: Settings) -> list[str]:
    """What the primary runs with for its replicas (nothing when it has none)."""
    if not settings.stack.postgres_replicas:
        return []
    # Keep some WAL for a replica that was stopped a while, so it can catch up by
    # streaming (no replication slots: a removed replica must not pin WAL forever).
    return ["-c", "wal_keep_size=256MB"]
