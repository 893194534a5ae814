"""Opaque cursors of newest-first lists (accounts, audit events, subscriptions, watch
history): the position of the last row handed out, (time, id), which the next page starts
after. A cursor names its list (`kind`), so that one list's cursor is refused by another."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

from streamcore.web.validation import InvalidCursor, invalid

Position = tuple[datetime, UUID]


def encode(kind: str, at: datetime, row_id: UUID) -> str:
    raw = json.dumps([kind, at.isoformat(), str(row_id)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(kind: str, cursor: str | None) -> Position | None:
    """The position in `cursor` (None: the first page); 400 invalid_cursor if it is not one
    this list handed out."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, at, row_id = json.loads(raw)
        if found != kind:
            raise ValueError(kind)
        return datetime.fromisoformat(at), UUID(row_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "not a cursor of this list", error=InvalidCursor) from None
