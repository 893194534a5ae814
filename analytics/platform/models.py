"""The platform read API's models (`GET /v1/analytics/platform`), for its OpenAPI document."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ServiceMinute(BaseModel):
    bucket: datetime
    rps: float
    # HAProxy's average response time over the backend's last 1024 requests (its `rtime`).
    latency_ms: float | None


class ServiceSeries(BaseModel):
    service: str
    minutes: list[ServiceMinute]


class InstanceOut(BaseModel):
    service: str
    name: str
    status: str
    weight: int


class RatioMinute(BaseModel):
    bucket: datetime
    ratio: float | None


class LatencyMinute(BaseModel):
    bucket: datetime
    p50: float | None
    p95: float | None


class SubscriptionsOut(BaseModel):
    by_state: dict[str, float]
    by_plan: dict[str, float]


class QueueOut(BaseModel):
    queue: str
    depth: float | None
    dead_letters: float | None


class PlatformOut(BaseModel):
    services: list[ServiceSeries]
    instances: list[InstanceOut]
    cache_hit_ratio: list[RatioMinute]
    recommendation_latency_ms: list[LatencyMinute]
    subscriptions: SubscriptionsOut
    queues: list[QueueOut]


class CollectedOut(BaseModel):
    rows: int = Field(description="Rows written into the current minute")
