"""``streamcore jobs``: tasks that failed for good (dead letters), and re-queueing them."""

from __future__ import annotations

import datetime as dt

import redis
import typer
from rich.table import Table

from cli import audit
from cli.common import JsonOption, console, fail, print_json, settings_or_exit
from streamcore.tasks.dead_letters import DeadLetters
from streamcore.tasks.queue import create_celery

app = typer.Typer(help="Background jobs: dead letters and retries.", no_args_is_help=True)


def _dead_letters() -> tuple[DeadLetters, redis.Redis]:
    client = redis.Redis.from_url(settings_or_exit().redis_dsn, socket_connect_timeout=3)
    return DeadLetters(client), client


@app.command()
def dead(json_output: JsonOption = False) -> None:
    """List tasks that exhausted their retries or failed unexpectedly."""
    letters, client = _dead_letters()
    try:
        jobs = letters.list()
    except redis.RedisError as exc:
        fail(f"cannot reach Redis: {exc}")
    finally:
        client.close()
    if json_output:
        print_json([job.to_dict() for job in jobs])
        return
    table = Table()
    for column in ("id", "task", "args", "retries", "failed at", "error"):
        table.add_column(column, overflow="fold")
    for job in jobs:
        when = dt.datetime.fromtimestamp(job.failed_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(
            job.id, job.task, ", ".join(map(str, job.args)), str(job.retries), when, job.error
        )
    console.print(table if jobs else "no dead jobs")


@app.command()
def retry(job_id: str, json_output: JsonOption = False) -> None:
    """Re-queue a dead job with its original payload."""
    settings = settings_or_exit()
    letters, client = _dead_letters()
    celery = create_celery(settings)
    try:
        task_id = letters.retry(job_id, celery)
    except redis.RedisError as exc:
        fail(f"cannot reach Redis: {exc}")
    finally:
        client.close()
        celery.close()
    if task_id is None:
        fail(f"no dead job with id {job_id!r} (see `streamcore jobs dead`)")
    audit.record(settings, "job_retried", {"job_id": job_id, "task_id": task_id})
    if json_output:
        print_json({"id": job_id, "task_id": task_id})
    else:
        console.print(f"re-queued {job_id} as task {task_id}")
