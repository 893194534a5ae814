"""Opaque list cursors: where the next page starts, bound to the query they came from.

A cursor is ``<payload>.<mac>`` (base64url): the payload names the signing key, the query's
filters and sort (a fingerprint) and the last row's sort key and id; the MAC is an HMAC with a
key derived from the origin's signing key, so a cursor cannot be forged or edited, and one from
another query is refused rather than silently starting somewhere odd. Keys rotate as the
origin's do: a cursor stays valid while its key is still listed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any
from uuid import UUID

from catalog_api.titles.models import TitleQuery
from catalog_api.titles.queries import SORTS
from streamcore.settings import Settings
from streamcore.signing import derived_key
from streamcore.web.service import InvalidRequest
from streamcore.web.validation import InvalidCursor, invalid

_PURPOSE = "titles-cursor-v1"


def _refused(problem: str) -> InvalidRequest:
    return invalid("cursor", problem, error=InvalidCursor)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(settings: Settings, key_id: str, payload: str) -> str:
    key = derived_key(settings.origin.signing_keys, key_id, _PURPOSE)
    return _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest()[:16])


def encode(settings: Settings, query: TitleQuery, after: list[Any]) -> str:
    key_id = settings.origin.active_key_id
    assert key_id is not None
    claims = {"k": key_id, "f": query.filters_fingerprint(), "a": after}
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{payload}.{_mac(settings, key_id, payload)}"


def decode(settings: Settings, cursor: str, query: TitleQuery) -> tuple[str | int, str]:
    """The position a cursor of `query` (filters and sort) points after; 400 if it is not one."""
    payload, _, mac = cursor.partition(".")
    try:
        claims = json.loads(_unb64(payload))
        key_id = claims["k"]
        known = isinstance(key_id, str) and key_id in settings.origin.signing_keys
    except (ValueError, binascii.Error, KeyError, TypeError):
        raise _refused("not a cursor returned by this API") from None
    if not known or not hmac.compare_digest(_mac(settings, key_id, payload).encode(), mac.encode()):
        raise _refused("not a cursor returned by this API (or it has expired)")
    if claims.get("f") != query.filters_fingerprint():
        raise _refused("it belongs to a list with other filters or another sort")
    try:
        value, after_id = claims["a"]
        SORTS[query.sort].parse(value)
        return value, str(UUID(after_id))
    except (ValueError, TypeError, KeyError):
        raise _refused("not a cursor returned by this API") from None
