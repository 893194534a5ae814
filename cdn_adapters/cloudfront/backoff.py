"""Submitting invalidations: one batch after the other, waiting out CloudFront's in-flight limits.

`submit_batches` is a plain function over any `create` callable, tested without CloudFront.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import stamina

from cdn_adapters.cloudfront.errors import TooManyInvalidationsInProgress
from cdn_adapters.cloudfront.plan import Batch

T = TypeVar("T")


@dataclass(frozen=True)
class Backoff:
    """How long to wait out TooManyInvalidationsInProgress: exponential, jittered, bounded."""

    attempts: int = 8
    initial_s: float = 10.0
    max_s: float = 120.0
    jitter_s: float = 5.0
    timeout_s: float = 900.0


DEFAULT_BACKOFF = Backoff()


async def submit_batches(
    batches: Sequence[Batch], create: Callable[[Batch], Awaitable[T]], *, backoff: Backoff
) -> list[T]:
    """`create` each batch in order, retrying a batch while CloudFront has too many in flight.

    Any other error stops at once. Batches created before a failure are not lost: their
    caller references make the next attempt with the same reference find them again.
    """
    created: list[T] = []
    for batch in batches:
        try:
            created.append(await _with_backoff(create, batch, backoff))
        except TooManyInvalidationsInProgress as exc:
            raise TooManyInvalidationsInProgress(
                f"CloudFront still had too many invalidations in progress after "
                f"{backoff.attempts} attempts; {len(created)} of {len(batches)} invalidations "
                "were created. Retry with the same reference: those will not be repeated.",
                retry_after_s=backoff.max_s,
            ) from exc
    return created


async def _with_backoff(
    create: Callable[[Batch], Awaitable[T]], batch: Batch, backoff: Backoff
) -> T:
    async for attempt in stamina.retry_context(
        on=TooManyInvalidationsInProgress,
        attempts=backoff.attempts,
        timeout=backoff.timeout_s,
        wait_initial=backoff.initial_s,
        wait_max=backoff.max_s,
        wait_jitter=backoff.jitter_s,
    ):
        with attempt:
            return await create(batch)
    raise AssertionError("unreachable: stamina re-raises the last error")
