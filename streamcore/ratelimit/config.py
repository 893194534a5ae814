"""The ``ratelimit`` settings section: budgets per endpoint class and caller tier, fail modes,
shadow mode and automatic tightening (docs/ratelimits.md).

Kept apart from streamcore/settings.py (which includes it as ``Settings.ratelimit``) because
the section is large; like every section it is frozen and rejects unknown keys.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator


def _networks(value: tuple[str, ...]) -> tuple[str, ...]:
    for cidr in value:
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            raise ValueError(f"{cidr!r} is not an IP network (e.g. 10.0.0.0/8)") from None
    return value


# A settings list of CIDR networks, each checked at load (also gateway.trusted_proxies).
Networks = Annotated[tuple[str, ...], AfterValidator(_networks)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateRule(_Section):
    """One budget: `limit` requests per `period_s`.

    ``sliding_window``: at most `limit` in any `period_s` (an exact log: no error).
    ``gcra``: a token bucket (the generic cell rate algorithm) refilled at ``limit/period_s``
    per second that lets `burst` requests through at once (default: `limit`).
    """

    limit: int = Field(ge=1, le=1_000_000)
    period_s: float = Field(60.0, gt=0, le=86_400)
    algorithm: Literal["sliding_window", "gcra"] = "sliding_window"
    burst: int | None = Field(None, ge=1, le=1_000_000)

    @model_validator(mode="after")
    def _burst_for_gcra(self) -> RateRule:
        if self.burst is not None and self.algorithm != "gcra":
            raise ValueError("burst: only for algorithm gcra")
        return self

    @property
    def capacity(self) -> int:
        """Requests that may pass at once: the quota the RateLimit-Policy field advertises."""
        return (self.burst or self.limit) if self.algorithm == "gcra" else self.limit


def _rule(limit: int, period_s: float = 60.0, **extra: object) -> RateRule:
    return RateRule(limit=limit, period_s=period_s, **extra)


class TieredBudget(_Section):
    """A class's budgets by who asks: anonymous callers (per client IP, IPv6 by /64), signed-in
    accounts by their plan (keys are plan names: every plan needs one), admins, and service
    accounts."""

    anonymous: RateRule
    plans: dict[str, RateRule]
    admin: RateRule
    service: RateRule


def _tiered(anonymous: RateRule, free: RateRule, basic: RateRule, standard: RateRule,
            premium: RateRule, admin: RateRule, service: RateRule) -> TieredBudget:  # fmt: skip
    plans = {"free": free, "basic": basic, "standard": standard, "premium": premium}
    return TieredBudget(anonymous=anonymous, plans=plans, admin=admin, service=service)


def _gcra(limit: int, burst: int, period_s: float = 60.0) -> RateRule:
    return _rule(limit, period_s, algorithm="gcra", burst=burst)


class AbuseSettings(_Section):
    """Automatic tightening per network range (IPv4 /24, IPv6 /56): streamcore/ratelimit/abuse.py.

    A range trips when, within one `window_s`, its failed sign-ins span `failed_login_accounts`
    distinct accounts, or its 4xx answers exceed `error_ratio` of at least `min_requests`, or
    its request count exceeds `rate_factor` times its usual (a moving average of past windows)
    and at least `min_rate`. A range that trips has its budgets multiplied by `penalty_factor`
    for a cool-down of `cooldown_s`, doubled (`cooldown_growth`) for each offence remembered
    within `offence_memory_s`, up to `max_cooldown_s`: fail2ban's escalation.

    Counts are estimated over a sliding `window_s` (the current window plus the previous one's
    share); 429s are not counted as errors (they are the limiter's own answers). A range's
    usual is an exponential moving average of its closed windows' request counts, spanning
    about `history_windows` windows (windows spent cooling down are not folded in); a range
    idle for that long forgets its history, and a range without one is held to `min_rate`.
    """

    enabled: bool = True
    window_s: float = Field(60.0, gt=0, le=3600)
    # How often each process adds what it has seen to Redis and the ranges are judged.
    flush_interval_s: float = Field(1.0, gt=0, le=60)
    failed_login_accounts: int = Field(10, ge=2)
    error_ratio: float = Field(0.5, gt=0, le=1)
    min_requests: int = Field(100, ge=1)
    rate_factor: float = Field(10.0, gt=1)
    min_rate: int = Field(3000, ge=1)
    penalty_factor: float = Field(0.1, gt=0, lt=1)
    cooldown_s: float = Field(300.0, gt=0)
    cooldown_growth: float = Field(2.0, ge=1)
    max_cooldown_s: float = Field(86_400.0, gt=0)
    offence_memory_s: float = Field(86_400.0, gt=0)
    history_windows: int = Field(60, ge=2, le=10_000)


_TIERED = ("read", "write", "upload")


class RateLimitSettings(_Section):
    """Per-caller request budgets, enforced by one kernel middleware in every service
    (streamcore/ratelimit/middleware.py; docs/ratelimits.md)."""

    enabled: bool = True
    # Log and count what would be refused, refuse nothing: how limits are rolled out.
    shadow: bool = False
    # Client networks never limited (internal monitoring, say); none by default.
    exempt_networks: Networks = ()
    # API reads (GET, HEAD): 100 a minute per user by default.
    read: TieredBudget = _tiered(
        _rule(100), _rule(100), _rule(150), _rule(200), _rule(300), _rule(1_000), _rule(20_000)
    )
    # API writes: bursts allowed (a player's progress, events and heartbeats come in clumps).
    write: TieredBudget = _tiered(
        _gcra(30, 10), _gcra(60, 20), _gcra(90, 30), _gcra(120, 40), _gcra(180, 60),
        _gcra(1_000, 200),
        _gcra(20_000, 2_000),
    )  # fmt: skip
    # Uploads: a few an hour.
    upload: TieredBudget = _tiered(
        _rule(5, 3600), _rule(10, 3600), _rule(20, 3600), _rule(30, 3600), _rule(60, 3600),
        _rule(1_000, 3600),
        _rule(10_000, 3600),
    )  # fmt: skip
    # Sign-in and sign-up: tight, per client IP and per account (the email).
    login_per_ip: RateRule = _rule(20)
    login_per_account: RateRule = _rule(10)
    # Playlists and segments, per stream slot (one playback grant, its token), never per user:
    # four streams of 4 s segments make ~120 requests a minute together and are never refused.
    media_per_slot: RateRule = _gcra(600, 120)
    # Media requests that carry no token are refused by the origin anyway; this caps probing.
    media_per_ip: RateRule = _rule(600)
    abuse: AbuseSettings = AbuseSettings()

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: object) -> object:
        """A tiered budget given in part (one plan, say) changes that part of the default."""
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name in _TIERED:
            given = data.get(name)
            default = cls.model_fields[name].default
            if isinstance(given, dict) and isinstance(default, TieredBudget):
                base = default.model_dump()
                plans = {**base["plans"], **given.get("plans", {})}
                merged[name] = {**base, **given, "plans": plans}
        return merged

    def missing_plans(self, plans: list[str]) -> list[str]:
        """``class.plans.<name>`` of each plan a budget forgets."""
        return [
            f"{name}.plans.{plan}"
            for name in _TIERED
            for plan in plans
            if plan not in getattr(self, name).plans
        ]
