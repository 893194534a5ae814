"""Which PostgreSQL schema holds each service's tables: the one place that names them.

A service owns the tables of its schema, and its pools see only that schema (their
``search_path`` is set to it, replicas included): no service reads another's tables, it asks
the owner over HTTP. The migrations' bookkeeping (``schema_migrations``) stays in ``public``,
outside every service's schema. Ownership is listed in docs/architecture.md ("Services and
their schemas").
"""

from __future__ import annotations

import enum


class Schema(enum.StrEnum):
    # Titles, assets (with their processing jobs) and uploads: the catalog service, the
    # workers that process assets and the command line's maintenance.
    CATALOG = "catalog"
    # Watch sessions, watch progress and playback events: the streaming service.
    STREAMING = "streaming"
    # Accounts, profiles, device sessions, refresh tokens, failed sign-ins and the audit log:
    # the auth service.
    AUTH = "auth"
    # Subscriptions, their append-only events, invoices, payment customers and the webhook
    # events received: the subscriptions service (and its worker pool).
    SUBSCRIPTIONS = "subscriptions"
    # Raw playback events (partitioned by day), sessions' QoE, per-minute rollups and alerts:
    # the analytics service (its web instances and its processor).
    ANALYTICS = "analytics"


def server_settings(schema: Schema) -> dict[str, str]:
    """asyncpg's per-connection settings for a pool of `schema`: only its tables are visible
    (pg_catalog always is, implicitly)."""
    return {"search_path": schema.value}
