"""One-time and every-start preparation of the stack's own services.

Before start: the PostgreSQL cluster (initdb), and the config files Redis and SeaweedFS read.
After the infra is healthy: the database, its migrations, and the S3 buckets; then each
PostgreSQL replica's data folder, cloned from the running primary (pg_basebackup).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from devstack import replicas, service_files, services
from streamcore import binaries
from streamcore.db import database
from streamcore.db.migrate import Migration, migrate
from streamcore.settings import Settings
from streamcore.storage.s3 import ensure_buckets

log = logging.getLogger(__name__)


class BootstrapError(Exception):
    pass


def prepare(settings: Settings) -> None:
    """Everything the managed infra needs on disk before its processes start."""
    settings.stack.data_dir.mkdir(parents=True, exist_ok=True)
    service_files.render(settings)
    if settings.manages_postgres:
        _init_postgres_cluster(settings)


def _init_postgres_cluster(settings: Settings) -> None:
    pgdata = services.postgres_data_dir(settings)
    if (pgdata / "PG_VERSION").is_file():
        return
    user = services.postgres_system_user(settings)
    pgdata.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _prepare_for_system_user(user, pgdata)
    assert settings.postgres.password is not None
    with tempfile.NamedTemporaryFile("w", delete=False, dir=pgdata.parent) as pwfile:
        pwfile.write(settings.postgres.password.get_secret_value())
    pw_path = Path(pwfile.name)
    if user is not None:
        shutil.chown(pw_path, user)
    try:
        result = subprocess.run(
            [
                str(binaries.postgres_bin_dir() / "initdb"),
                "-D", str(pgdata),
                "-U", settings.postgres.user,
                f"--pwfile={pw_path}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
            **_run_as(user),
        )  # fmt: skip
    finally:
        pw_path.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(pgdata, ignore_errors=True)
        raise BootstrapError(f"initdb failed:\n{result.stderr.strip()}")
    log.info("initialised PostgreSQL cluster in %s", pgdata)


def _run_as(user: str | None) -> dict[str, Any]:
    """subprocess.run() arguments that fully become `user` (None: stay who we are)."""
    if user is None:
        return {}
    # Fully become the user: keeping root's group would subject it to root's group bits.
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def clone_replicas(settings: Settings) -> list[str]:
    """Clone each missing replica's data folder from the running primary; return what was done.

    A folder that already holds a copy of this primary is reused as is: the replica catches up
    by streaming (the primary keeps some WAL for it); delete the folder to clone it afresh.
    """
    if not settings.manages_postgres:
        return []
    primary = _system_identifier(services.postgres_data_dir(settings))
    done = []
    for index in replicas.replica_indexes(settings):
        target = replicas.postgres_replica_data_dir(settings, index)
        if (target / "PG_VERSION").is_file():
            if primary is not None and _system_identifier(target) == primary:
                continue
            log.warning("%s is a copy of another cluster; cloning it again", target)
        _clone_replica(settings, target)
        done.append(f"replica {replicas.replica_name(index)} (pg_basebackup)")
    return done


def _system_identifier(pgdata: Path) -> bytes | None:
    """The cluster's identity, set by initdb and kept by its copies; None if unreadable.

    A replica can only stream from the cluster it was copied from: one left over from a primary
    that was since re-created must be cloned again. It is the first field of pg_control.
    """
    try:
        with (pgdata / "global" / "pg_control").open("rb") as control:
            return control.read(8)
    except OSError:
        return None


def _clone_replica(settings: Settings, target: Path) -> None:
    user = services.postgres_system_user(settings)
    shutil.rmtree(target, ignore_errors=True)  # a clone interrupted earlier is started over
    target.mkdir(parents=True)
    target.chmod(0o700)  # PostgreSQL refuses a data folder others can read
    if user is not None:
        _prepare_for_system_user(user, target)
    assert settings.postgres.password is not None
    # The password travels in the environment, never on the command line (visible in ps).
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PGPASSWORD": settings.postgres.password.get_secret_value(),
        "PGCONNECT_TIMEOUT": "10",
    }
    result = subprocess.run(
        [
            str(binaries.postgres_bin_dir() / "pg_basebackup"),
            "-D", str(target),
            "-h", settings.stack.host,
            "-p", str(settings.stack.postgres_port),
            "-U", settings.postgres.user,
            "--no-password",
            # Write standby.signal and primary_conninfo: the copy starts as a streaming replica.
            "-R",
            # Stream the WAL written during the copy alongside it, so the copy is consistent.
            "-X", "stream",
            # Checkpoint now rather than wait for the next scheduled one.
            "-c", "fast",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=max(settings.stack.startup_timeout_s, 60),
        **_run_as(user),
    )  # fmt: skip
    if result.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        raise BootstrapError(f"pg_basebackup into {target} failed:\n{result.stderr.strip()}")
    log.info("cloned a PostgreSQL replica into %s", target)


def _prepare_for_system_user(user: str, pgdata: Path) -> None:
    """Create the unprivileged user PostgreSQL runs as, and let it reach its data folder."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(user)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    pgdata.chmod(0o700)
    # The user must reach its data folder and its own binaries (in the project's venv, which
    # may sit in a private folder such as one made by mktemp -d).
    _grant_search(pgdata.parents, "its data")
    bin_dir = binaries.postgres_bin_dir()
    _grant_search([bin_dir, *bin_dir.parents], "its binaries")


def _grant_search(folders: Iterable[Path], what: str) -> None:
    """Let others traverse (not list) each folder."""
    for folder in folders:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning(
                "granting others search (x) permission on %s so PostgreSQL can reach %s",
                folder, what,
            )  # fmt: skip
            folder.chmod(mode | stat.S_IXOTH)


async def _after_infra(settings: Settings) -> list[str]:
    if settings.manages_postgres:
        await database.ensure_database(settings)
    conn = await database.connect(settings)
    try:
        applied: list[Migration] = await migrate(conn)
    finally:
        await conn.close()
    done = [f"migration {m.version:04d}_{m.name}" for m in applied]
    return done + [f"bucket {bucket}" for bucket in await ensure_buckets(settings)]


def after_infra(settings: Settings) -> list[str]:
    """Create the database, apply migrations and create buckets; return what was done."""
    return asyncio.run(_after_infra(settings))
