"""Opaque cursors of the admin list: the position of the last row handed out."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from streamcore.web.validation import InvalidCursor, invalid
from subscriptions.queries import Position

_KIND = "subscriptions"


def encode(at: datetime, row_id: UUID) -> str:
    raw = json.dumps([_KIND, at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> Position | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        kind, at, row_id = json.loads(raw)
        if kind != _KIND:
            raise ValueError(kind)
        return datetime.fromisoformat(at), UUID(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor of this list", error=InvalidCursor) from None
