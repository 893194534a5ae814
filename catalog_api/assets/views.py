"""How an asset looks in the API.

Everyone who may see an asset gets its public fields: what it is, its state, its renditions
and images, its certification (the strictest of its titles', queries.py) and its access
level (premium when any of its titles is), and whether it is ``locked`` to the caller
(premium, and the caller's plan does not include premium titles: catalog_api/locks.py). Who
may manage it (its owner, admins, service accounts with the admin role:
`Principal.may_manage`) also gets how it was made: its source, owner, attempts and errors.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any
from uuid import UUID

from catalog_api.assets.queries import Labels
from catalog_api.locks import Locks
from streamcore.assets.repository import Asset
from streamcore.web.validation import InvalidCursor, invalid


def asset_json(asset: Asset, labels: Labels, *, managed: bool, locks: Locks) -> dict[str, Any]:
    public = {
        "id": str(asset.id),
        "title": asset.title,
        "status": asset.status.value,
        "progress": asset.progress,
        "version": asset.version,
        "certification": labels.certification,
        "access": labels.access.value,
        "locked": locks.locked(labels.access),
        "main_title": labels.main_title,
        "renditions": asset.renditions,
        "audio": [_audio(track) for track in asset.audio],
        "images": asset.images,
        "created_at": asset.created_at.isoformat(),
        "updated_at": asset.updated_at.isoformat(),
        "ready_at": _iso(asset.ready_at),
        "links": {"self": f"/v1/assets/{asset.id}"},
    }
    if not managed:
        return public
    return {
        **public,
        "owner_account_id": str(asset.owner_account_id) if asset.owner_account_id else None,
        "error": asset.error,
        # What was published without (an audio track that does not decode, ...).
        "warnings": (asset.source_probe or {}).get("warnings", []),
        "attempts": asset.attempts,
        "source": {
            "filename": asset.source_filename,
            "size": asset.source_size,
            "content_type": asset.content_type,
            "probe": asset.source_probe,
            "audio_languages": list(asset.audio_languages),
        },
        "processing_started_at": _iso(asset.processing_started_at),
        "failed_at": _iso(asset.failed_at),
    }


def _audio(track: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "language", "label", "channels", "default")
    return {key: track.get(key) for key in keys}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def encode_cursor(asset: Asset) -> str:
    raw = f"{asset.created_at.isoformat()}|{asset.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, asset_id = raw.split("|")
        return datetime.fromisoformat(created), UUID(asset_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor returned by this API", error=InvalidCursor) from None
