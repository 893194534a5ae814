"""What a playback grant to a signed-in viewer checks, and the audit events streaming sends.

Checks: the device has not been signed out (`streamcore.auth.revocation`: an access token
outlives its device's sign-out by up to ``auth.access_ttl_s``, so decisions that hand out
playback ask), and the profile's maturity level may see the asset's certification (a title
without one counts as adult, `streamcore.auth.maturity`).

Audit events go to the kernel's stream (`streamcore.auth.audit.publish`), which the auth
service records: playback grants (account, profile, device, asset, client IP), support reads
of a profile's data, and claims of anonymous viewer ids. An event that cannot be published
is logged, not answered with an error: the grant it records has happened.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from aiohttp import web
from redis.exceptions import RedisError

from streamcore.auth import maturity
from streamcore.auth.audit import AuditEvent, publish
from streamcore.auth.principal import principal
from streamcore.auth.revocation import is_revoked
from streamcore.web.client_ip import client_ip
from streamcore.web.service import SETTINGS_KEY, Forbidden, Unauthorized
from streaming.catalog_client import CatalogAsset
from streaming.resources import REDIS_KEY
from streaming.viewer import Viewer

log = logging.getLogger(__name__)


class Restricted(Forbidden):
    code = "restricted"


class SignedOut(Unauthorized):
    code = "session_revoked"


async def signed_out(app: web.Application, *devices: UUID | None) -> bool:
    """Whether any of these device sessions has been signed out."""
    client = app[REDIS_KEY]
    return any([await is_revoked(client, device) for device in devices if device is not None])


async def not_signed_out(app: web.Application, viewer: Viewer) -> None:
    if await signed_out(app, viewer.device_id):
        raise SignedOut("this device has been signed out; sign in again")


def may_watch(app: web.Application, viewer: Viewer, asset: CatalogAsset) -> None:
    """403 ``restricted`` when the profile's maturity level may not see the asset."""
    settings = app[SETTINGS_KEY].auth
    level = viewer.maturity
    if level is not None and level not in maturity.levels(settings):
        level = maturity.levels(settings)[0]  # a level these settings do not know: the least
    if not maturity.may_see(settings, level, asset.certification):
        shown = asset.certification or "no certification (counts as adult)"
        raise Restricted(f"this title ({shown}) is above the profile's maturity level ({level})")


async def _publish(request: web.Request, event: AuditEvent) -> None:
    try:
        await publish(request.app[REDIS_KEY], event)
    except RedisError as exc:
        log.error("audit: %s of %s not published: %s", event.kind, event.actor, exc)


def _event(request: web.Request, kind: str, **fields: Any) -> AuditEvent:
    settings = request.app[SETTINGS_KEY]
    return AuditEvent(
        kind=kind, actor=principal(request).actor, ip=client_ip(request, settings), **fields
    )


async def audit_grant(
    request: web.Request, viewer: Viewer, asset_id: UUID, watch_session: UUID
) -> None:
    """A signed-in viewer was given playback URLs."""
    await _publish(request, _event(
        request, "playback_granted", account_id=viewer.account_id,
        profile_id=viewer.profile_id, session_id=viewer.device_id,
        detail={"asset_id": str(asset_id), "watch_session_id": str(watch_session)},
    ))  # fmt: skip


async def audit_tool_grant(request: web.Request, asset_id: UUID) -> None:
    """A service account was given playback URLs (anonymous grants, where allowed, are not
    recorded: they name nobody)."""
    if principal(request).service is None:
        return
    await _publish(request, _event(request, "playback_granted", detail={"asset_id": str(asset_id)}))


async def audit(request: web.Request, kind: str, **fields: Any) -> None:
    """Any other event: `support_read`, `viewer_claimed`."""
    await _publish(request, _event(request, kind, **fields))
