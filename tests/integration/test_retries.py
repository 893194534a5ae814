"""One meaning of "transient": retried with back-off (then dead letters), or failed at once.

Real failures only: the stack's edge is stopped (its purges fail as CdnUnavailable, transient),
and a path no CDN would accept is refused (a ValueError: permanent). The test configuration's
short back-off (configs/test.yaml) keeps each case within seconds.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest

from devstack import control
from devstack.services import Service
from streamcore.settings import Settings
from streamcore.tasks.dead_letters import DeadJob
from streamcore.tasks.queue import QueueName, TaskName, create_celery
from tests.integration.jobs_helpers import dead_letters_for

pytestmark = pytest.mark.stack


def _purge(stack: Settings, path: str, reference: str) -> None:
    celery = create_celery(stack)
    celery.send_task(str(TaskName.PURGE_CDN), args=[[path], reference])
    celery.close()


def _wait_dead(stack: Settings, reference: str, timeout_s: float) -> list[DeadJob]:
    deadline = time.monotonic() + timeout_s
    while not (dead := dead_letters_for(stack, TaskName.PURGE_CDN, reference)):
        assert time.monotonic() < deadline, f"{reference} never reached the dead letters"
        time.sleep(0.2)
    return list(dead)


def _retries_logged(stack: Settings, reference: str) -> int:
    log = (stack.stack.data_dir / "logs" / "worker-control.log").read_text(errors="replace")
    return sum(1 for line in log.splitlines() if reference in line and "; retry " in line)


def test_a_transient_failure_is_retried_until_it_passes(stack: Settings) -> None:
    reference = f"retry-{uuid.uuid4().hex[:8]}"
    control.stop_service(stack, Service.EDGE)
    try:
        _purge(stack, f"/assets/{uuid.uuid4()}/", reference)
        deadline = time.monotonic() + 10
        while _retries_logged(stack, reference) < 1:
            assert time.monotonic() < deadline, "the failing purge was not retried"
            time.sleep(0.1)
    finally:
        control.restart_service(stack, Service.EDGE)
    # The edge is back before the retries run out: the purge succeeds, nothing is dead.
    policy = stack.worker.queues[QueueName.CONTROL]
    time.sleep(policy.retry_backoff_max_s * 2)
    assert dead_letters_for(stack, TaskName.PURGE_CDN, reference) == []
    assert _retries_logged(stack, reference) < policy.max_retries


def test_a_transient_failure_that_lasts_exhausts_its_retries_into_the_dead_letters(
    stack: Settings,
) -> None:
    reference = f"exhaust-{uuid.uuid4().hex[:8]}"
    policy = stack.worker.queues[QueueName.CONTROL]
    control.stop_service(stack, Service.EDGE)
    try:
        started = time.monotonic()
        _purge(stack, f"/assets/{uuid.uuid4()}/", reference)
        # Each wait is at least half its doubling back-off, at most the cap: about 4-7 s here.
        (job,) = _wait_dead(stack, reference, timeout_s=policy.max_retries * 2 * 3)
        took = time.monotonic() - started
    finally:
        control.restart_service(stack, Service.EDGE)
    assert job.retries == policy.max_retries
    assert "CdnUnavailable" in job.error
    assert _retries_logged(stack, reference) == policy.max_retries
    minimum = sum(
        min(policy.retry_backoff_max_s, policy.retry_backoff_s * 2**n) / 2
        for n in range(policy.max_retries)
    )
    assert took >= minimum, f"retried without backing off ({took:.1f} s < {minimum:.1f} s)"


def test_a_permanent_failure_is_not_retried(stack: Settings) -> None:
    reference = f"permanent-{uuid.uuid4().hex[:8]}"
    _purge(stack, "no/leading/slash", reference)
    (job,) = _wait_dead(stack, reference, timeout_s=10)
    assert job.retries == 0
    assert _retries_logged(stack, reference) == 0
    listing = subprocess.run(
        [sys.executable, "-m", "cli", "jobs", "dead", "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert job.id in listing.stdout
