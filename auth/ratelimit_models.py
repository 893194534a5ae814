"""The bodies of the rate limits' admin API (auth/ratelimit_admin.py), for its OpenAPI
document: what streamcore/ratelimit/bans.py builds, described."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Reason = Literal["failed_logins", "error_ratio", "request_rate"]


class UnbanParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    forget: bool = Field(
        False, description="Also forget the range's offences (else its next trip escalates)"
    )


class BanOut(BaseModel):
    range: str = Field(description="IPv4 /24 or IPv6 /56", examples=["203.0.113.0/24"])
    reason: Reason | str
    factor: float = Field(description="The range's budgets are multiplied by it")
    offences: int = Field(description="Trips remembered (abuse.offence_memory_s), this one too")
    since: datetime
    until: datetime


class BanList(BaseModel):
    items: list[BanOut] = Field(description="Soonest to end first")


class BudgetOut(BaseModel):
    class_: str = Field(alias="class", description="read, write, upload, login_per_ip, ...")
    tier: str = Field(description="anonymous, plan:<name>, admin, service; or ip, account, slot")
    limit: int
    period_s: float
    algorithm: Literal["sliding_window", "gcra"]
    burst: int | None


class TripOut(BaseModel):
    range: str
    reason: Reason | str
    offences: int
    at: datetime
    until: datetime
    requests: float = Field(description="Requests in the window (estimated, sliding)")
    errors: float = Field(description="4xx answers (429s aside) in the window")
    accounts: float = Field(description="Distinct accounts with failed sign-ins in the window")


class RateLimitStatus(BaseModel):
    enabled: bool
    shadow: bool = Field(description="Refusals logged and counted, never made")
    exempt_networks: list[str]
    budgets: list[BudgetOut]
    abuse: dict[str, bool | int | float] = Field(
        description="The ratelimit.abuse settings: thresholds, window, cool-downs"
    )
    active_bans: int = Field(description="Ranges cooling down now")
    recent_trips: list[TripOut] = Field(description="The latest trips, newest first (at most 50)")
