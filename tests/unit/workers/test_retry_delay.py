"""The back-off between retries: doubling, capped, jittered, never zero."""

from __future__ import annotations

from streamcore.settings import QueuePolicy
from workers.tasks import retry_delay_s


def test_retry_delays_double_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    policy = QueuePolicy(
        concurrency=1, time_limit_s=60, max_retries=8, retry_backoff_s=1, retry_backoff_max_s=10
    )
    for retries, ceiling in [(0, 1), (1, 2), (2, 4), (3, 8), (4, 10), (7, 10)]:
        delays = [retry_delay_s(policy, retries) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
