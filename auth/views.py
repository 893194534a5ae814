"""The JSON of accounts, profiles and devices, as every endpoint answers them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from streamcore.settings import AuthSettings


def account_json(settings: AuthSettings, row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "email": row["email"], "display_name": row["display_name"],
        "role": row["role"],
        "created_at": row["created_at"].isoformat(),
    }  # fmt: skip


def profile_json(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "name": row["name"], "maturity": row["maturity"],
        "language": row["language"], "genres": list(row["genres"]),
        "created_at": row["created_at"].isoformat(),
    }  # fmt: skip


def admin_profile_json(row: asyncpg.Record) -> dict[str, Any]:
    """A profile as admins and services see it: with its account."""
    return {**profile_json(row), "account_id": str(row["account_id"])}


def device_json(row: asyncpg.Record, current: UUID | None) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "name": row["name"], "user_agent": row["user_agent"],
        "ip": row["ip"], "created_at": row["created_at"].isoformat(),
        "last_seen_at": row["last_seen_at"].isoformat(), "current": row["id"] == current,
    }  # fmt: skip
