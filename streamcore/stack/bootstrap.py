"""One-time and every-start preparation of the stack's own services.

Before start: the PostgreSQL cluster (initdb), and the config files Redis and SeaweedFS read.
After the infra is healthy: the database, its migrations, and the S3 buckets.
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
from pathlib import Path

from streamcore import binaries, database
from streamcore.migrate import Migration, migrate
from streamcore.settings import Settings
from streamcore.stack import services
from streamcore.storage.s3 import ensure_buckets

log = logging.getLogger(__name__)


class BootstrapError(Exception):
    pass


def prepare(settings: Settings) -> None:
    """Everything the managed infra needs on disk before its processes start."""
    settings.stack.data_dir.mkdir(parents=True, exist_ok=True)
    services.render_service_files(settings)
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
    # Fully become the user: keeping root's group would subject it to root's group bits.
    group: int | None = None
    if user is not None:
        shutil.chown(pw_path, user)
        group = pwd.getpwnam(user).pw_gid
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
            user=user,
            group=group,
            extra_groups=[] if user is not None else None,
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        pw_path.unlink(missing_ok=True)
    if result.returncode != 0:
        shutil.rmtree(pgdata, ignore_errors=True)
        raise BootstrapError(f"initdb failed:\n{result.stderr.strip()}")
    log.info("initialised PostgreSQL cluster in %s", pgdata)


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
    # The user needs to traverse (not list) every folder above its data folder.
    for parent in pgdata.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            log.warning(
                "granting others search (x) permission on %s so PostgreSQL can reach its data",
                parent,
            )
            parent.chmod(mode | stat.S_IXOTH)


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
