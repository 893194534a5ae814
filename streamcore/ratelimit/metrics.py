"""What the rate limiter and automatic tightening count, in the app's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class RateLimitMetrics:
    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        # outcome: allowed, limited, shadow_limited (would have been), local_allowed and
        # local_limited (Redis unreachable, the per-process limiter decided), unavailable
        # (Redis unreachable, a fail-closed class refused), exempt.
        self.decisions = Counter(
            "ratelimit_decisions_total", "Rate-limit decisions by class, tier and outcome",
            ["service", "class", "tier", "outcome"], registry=registry,
        )  # fmt: skip
        self.redis_errors = Counter(
            "ratelimit_redis_errors_total", "Limiter calls that Redis could not answer",
            ["service"], registry=registry,
        )  # fmt: skip
        # reason: failed_logins, error_ratio, request_rate
        self.trips = Counter(
            "ratelimit_abuse_trips_total", "Network ranges that tripped automatic tightening",
            ["service", "reason"], registry=registry,
        )  # fmt: skip
        self.unbans = Counter(
            "ratelimit_unbans_total", "Ranges whose cool-down an admin lifted",
            ["service"], registry=registry,
        )  # fmt: skip

    def decided(self, class_name: str, tier: str, outcome: str) -> None:
        self.decisions.labels(self.service, class_name, tier, outcome).inc()
