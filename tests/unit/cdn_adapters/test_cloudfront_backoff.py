"""submit_batches against CloudFront's in-flight limits and caller-reference rules.

CloudFront's limits (3,000 file paths and 15 wildcard paths in flight per distribution) and
its TooManyInvalidationsInProgress answers cannot be provoked from here, and moto does not
enforce them. `FakeCloudFront` below implements just those documented rules, tick by tick (one
tick per call, so the tests are deterministic), and is passed as the "create" callable: the
scheduling code under test is the real one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import pytest

from cdn_adapters.base import CdnError
from cdn_adapters.cloudfront import (
    Backoff,
    Batch,
    InvalidationLimits,
    TooManyInvalidationsInProgress,
    plan_invalidations,
    submit_batches,
)

FAST = Backoff(attempts=12, initial_s=0.001, max_s=0.004, jitter_s=0.001, timeout_s=10)


@dataclass
class FakeCloudFront:
    """Invalidations stay in flight for `lifetime` calls; limits as CloudFront documents."""

    lifetime: int = 3
    max_files: int = 3000
    max_wildcards: int = 15
    calls: int = 0
    rejected: int = 0
    in_flight: list[tuple[Batch, int]] = field(default_factory=list)
    by_reference: dict[str, tuple[str, Batch]] = field(default_factory=dict)
    created: list[Batch] = field(default_factory=list)

    async def create(self, batch: Batch) -> str:
        self.calls += 1
        self.in_flight = [(b, done) for b, done in self.in_flight if done > self.calls]
        if batch.caller_reference in self.by_reference:
            known_id, known = self.by_reference[batch.caller_reference]
            if known.paths != batch.paths:
                raise CdnError("InvalidationBatchAlreadyExists")
            return known_id  # CloudFront answers with the existing invalidation
        wildcards = batch.wildcards + sum(b.wildcards for b, _ in self.in_flight)
        files = len(batch.paths) - batch.wildcards
        files += sum(len(b.paths) - b.wildcards for b, _ in self.in_flight)
        if wildcards > self.max_wildcards or files > self.max_files:
            self.rejected += 1
            raise TooManyInvalidationsInProgress("TooManyInvalidationsInProgress")
        invalidation_id = f"I{len(self.created)}"
        self.in_flight.append((batch, self.calls + self.lifetime))
        self.by_reference[batch.caller_reference] = (invalidation_id, batch)
        self.created.append(batch)
        return invalidation_id


def _wildcard_heavy_plan(reference: str = "r") -> list[Batch]:
    folders = [f"/assets/{uuid.UUID(int=i)}/" for i in range(40)]
    files = [f"/assets/{uuid.UUID(int=1000 + i)}/v1/master.m3u8" for i in range(4000)]
    return plan_invalidations(folders + files, reference=reference, limits=InvalidationLimits())


async def test_batches_wait_for_room_in_flight_and_all_get_created() -> None:
    batches = _wildcard_heavy_plan()
    cloudfront = FakeCloudFront()
    ids = await submit_batches(batches, cloudfront.create, backoff=FAST)
    assert ids == [f"I{i}" for i in range(len(batches))]
    assert cloudfront.created == batches
    assert cloudfront.rejected > 0  # the limits were hit, waited out, and never exceeded


async def test_back_off_gives_up_after_its_attempts_with_a_retryable_error() -> None:
    batches = _wildcard_heavy_plan()
    cloudfront = FakeCloudFront(lifetime=10_000)  # nothing ever completes
    with pytest.raises(TooManyInvalidationsInProgress, match="1 of 3 invalidations") as info:
        await submit_batches(batches, cloudfront.create, backoff=FAST)
    assert cloudfront.calls == 1 + FAST.attempts
    assert info.value.retry_after_s == FAST.max_s


async def test_a_retried_purge_finds_its_invalidations_again_instead_of_repeating_them() -> None:
    cloudfront = FakeCloudFront(lifetime=10_000)
    with pytest.raises(TooManyInvalidationsInProgress):
        await submit_batches(_wildcard_heavy_plan("job-7"), cloudfront.create, backoff=FAST)
    cloudfront.in_flight.clear()  # later: what was in flight has completed...
    cloudfront.lifetime = 3  # ...and CloudFront works through invalidations again
    ids = await submit_batches(_wildcard_heavy_plan("job-7"), cloudfront.create, backoff=FAST)
    assert ids == ["I0", "I1", "I2"]
    assert len(cloudfront.created) == 3  # the first batch was not created twice


async def test_other_errors_are_not_retried() -> None:
    calls = 0

    async def refuse(batch: Batch) -> str:
        nonlocal calls
        calls += 1
        raise CdnError("AccessDenied")

    with pytest.raises(CdnError, match="AccessDenied"):
        await submit_batches(_wildcard_heavy_plan(), refuse, backoff=FAST)
    assert calls == 1
