"""The local stack is made of real services, reachable over real connections."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import boto3
import pytest
import redis

from devstack import control
from devstack.services import Service
from streamcore import binaries
from streamcore.settings import Settings
from streamcore.storage.s3 import client_kwargs

STREAMCORE = [sys.executable, "-m", "cli"]


def run_cli(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STREAMCORE, *args], capture_output=True, text=True, check=check, timeout=120
    )


def test_status_json_reports_every_service_healthy(stack: Settings) -> None:
    result = run_cli("status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    states = {service["name"]: service["state"] for service in report["services"]}
    assert states == {service.value: "healthy" for service in Service}
    pools = {pool["name"]: pool for pool in report["worker_pools"]}
    assert sorted(pools) == [
        "worker-billing", "worker-control", "worker-recommendations", "worker-transcode",
    ]  # fmt: skip
    for queue, policy in stack.worker.queues.items():
        pool = pools[f"worker-{queue}"]
        assert pool["state"] == "healthy" and pool["pid"] and pool["queue"] == queue
        assert pool["concurrency"] == policy.concurrency
    assert report["healthy"] is True
    # The FFmpeg the test settings name (tests/conftest.py), not whichever is first on PATH.
    assert Path(report["ffmpeg"]["path"]) == stack.ffmpeg.path
    assert report["ffmpeg"]["source"] == "settings"
    # Secrets never reach the output.
    assert stack.postgres.password is not None
    assert stack.postgres.password.get_secret_value() not in result.stdout


async def test_row_written_through_asyncpg_is_read_by_a_fresh_connection(stack: Settings) -> None:
    marker = uuid.uuid4()
    writer = await asyncpg.connect(stack.postgres_dsn)
    try:
        writer_pid = await writer.fetchval("SELECT pg_backend_pid()")
        await writer.execute(
            "INSERT INTO catalog.assets (id, status, source_key, source_filename) "
            "VALUES ($1, 'uploaded', 'k', 'f.mp4')",
            marker,
        )
    finally:
        await writer.close()
    reader = await asyncpg.connect(stack.postgres_dsn)
    try:
        row = await reader.fetchrow("SELECT status FROM catalog.assets WHERE id = $1", marker)
        reader_pid = await reader.fetchval("SELECT pg_backend_pid()")
        await reader.execute("DELETE FROM catalog.assets WHERE id = $1", marker)
    finally:
        await reader.close()
    assert row is not None and row["status"] == "uploaded"
    assert reader_pid != writer_pid  # really another session of the server


def test_key_set_through_redis_py_is_visible_from_redis_cli(stack: Settings) -> None:
    key, value = f"test:{uuid.uuid4()}", uuid.uuid4().hex
    client = redis.Redis.from_url(stack.redis_dsn)
    client.set(key, value, ex=60)
    client.close()
    assert stack.redis.password is not None
    result = subprocess.run(
        [
            str(binaries.redis_cli()), "-h", stack.stack.host, "-p", str(stack.stack.redis_port),
            "--no-auth-warning", "-a", stack.redis.password.get_secret_value(), "GET", key,
        ],
        capture_output=True, text=True, check=True, timeout=10,
    )  # fmt: skip
    assert result.stdout.strip() == value


def test_object_put_with_boto3_is_listed_by_a_second_client(stack: Settings) -> None:
    key = f"test/{uuid.uuid4()}.bin"
    body = os.urandom(2048)
    writer = boto3.session.Session().client("s3", **client_kwargs(stack))
    writer.put_object(Bucket=stack.s3.media_bucket, Key=key, Body=body)
    reader = boto3.session.Session().client("s3", **client_kwargs(stack))
    listed = reader.list_objects_v2(Bucket=stack.s3.media_bucket, Prefix="test/")
    assert key in [item["Key"] for item in listed.get("Contents", [])]
    assert reader.get_object(Bucket=stack.s3.media_bucket, Key=key)["Body"].read() == body
    reader.delete_object(Bucket=stack.s3.media_bucket, Key=key)


def test_wrong_s3_credentials_are_refused(stack: Settings) -> None:
    kwargs = {**client_kwargs(stack), "aws_secret_access_key": "wrong"}
    client = boto3.session.Session().client("s3", **kwargs)
    with pytest.raises(client.exceptions.ClientError, match=r"SignatureDoesNotMatch|AccessDenied"):
        client.list_objects_v2(Bucket=stack.s3.media_bucket)


def test_migrations_are_recorded_and_rerunning_is_a_no_op(stack: Settings) -> None:
    result = run_cli("db", "migrate", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"applied": []}


async def test_migration_table_lists_the_initial_migration(stack: Settings) -> None:
    conn = await asyncpg.connect(stack.postgres_dsn)
    try:
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
    finally:
        await conn.close()
    assert 1 in versions


def test_a_second_up_says_a_stack_is_running(stack: Settings) -> None:
    result = run_cli("up", "--detach")
    assert result.returncode == 1
    assert "already running" in result.stderr


def test_apps_answer_health_checks(stack: Settings) -> None:
    import urllib.request

    for url in (stack.catalog_api.url + "/readyz", stack.origin.url + "/healthz"):
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback URL)
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"


def test_a_killed_service_is_reported_down_then_recovers(stack: Settings) -> None:
    report = control.status(stack)
    redis_row = next(row for row in report.services if row.name == Service.REDIS)
    assert redis_row.pid is not None
    os.kill(redis_row.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        result = run_cli("status", "--json")
        report = json.loads(result.stdout)
        states = {s["name"]: s["state"] for s in [*report["services"], *report["worker_pools"]]}
        if states["redis"] == "down":
            break
        time.sleep(0.3)
    assert result.returncode == 1
    assert states["redis"] == "down"
    # Without their broker the worker pools cannot answer, and say so rather than hiding it.
    assert states["worker-transcode"] == states["worker-control"] == "unhealthy"
    assert states["worker-billing"] == "unhealthy"

    control.restart_service(stack, Service.REDIS)
    deadline = time.monotonic() + 60
    while not control.status(stack).healthy:
        assert time.monotonic() < deadline, "the stack did not recover after Redis came back"
        time.sleep(1)
