"""Roles and permissions: the one table that says who may do what.

A route declares the permission it needs (each service's ``permissions.py``), a role holds a
set of permissions, and `streamcore.auth.middleware.authorization` compares the two for every
request. Nothing else decides access, so a handler never checks a role itself.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    # Uploads and manages the assets it owns (and only those).
    CREATOR = "creator"
    # Titles, every asset, CDN purges, accounts, the audit log, the dashboard.
    ADMIN = "admin"


class Permission(StrEnum):
    # Anyone, signed in or not: health, documents, the player's files, catalog reads, JWKS.
    PUBLIC = "public"
    # Playback, sessions, progress and events: signed in, or anonymous where
    # auth.allow_anonymous_playback allows it.
    PLAY = "play"
    # One's own account, profiles and devices.
    ACCOUNT = "account"
    # Upload assets and manage one's own.
    UPLOAD = "upload"
    # Any asset, titles, jobs.
    MANAGE_CATALOG = "manage_catalog"
    PURGE_CDN = "purge_cdn"
    MANAGE_ACCOUNTS = "manage_accounts"
    READ_AUDIT = "read_audit"
    # Any account's subscription, its events and invoices; any account's entitlement (the
    # catalog and streaming services ask with their service account).
    MANAGE_SUBSCRIPTIONS = "manage_subscriptions"
    # The analytics service's reads (QoE, popularity, sessions) and on-demand rollups.
    VIEW_ANALYTICS = "view_analytics"


_VIEWER = frozenset({Permission.PUBLIC, Permission.PLAY, Permission.ACCOUNT})
_CREATOR = _VIEWER | {Permission.UPLOAD}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.CREATOR: _CREATOR,
    Role.ADMIN: frozenset(Permission),
}


def grants(role: Role | None, permission: Permission, *, anonymous_playback: bool) -> bool:
    """Whether `role` (None: an anonymous caller) holds `permission`."""
    if role is None:
        return permission is Permission.PUBLIC or (
            permission is Permission.PLAY and anonymous_playback
        )
    return permission in ROLE_PERMISSIONS[role]
