"""One notification as read from its stream, and the order of stream ids.

Ids are ``<ms>-<n>`` from one sequence for every channel (streamcore/notify.py), so comparing
them as pairs of integers orders messages the way they were published, across channels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from streamcore import notify

_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

StreamId = tuple[int, int]
ORIGIN: StreamId = (0, 0)


def valid_id(text: str) -> bool:
    return bool(_ID.match(text))


def order_of(text: str) -> StreamId:
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def text_of(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class Message:
    id: str
    channel: str
    kind: str
    data: Any

    @classmethod
    def of_entry(cls, key: bytes | str, entry_id: bytes | str, fields: dict[Any, Any]) -> Message:
        found = {text_of(k): text_of(v) for k, v in fields.items()}
        return cls(
            text_of(entry_id), found.get("channel") or notify.channel_of(key),
            found.get("kind", ""), json.loads(found.get("data") or "null"),
        )  # fmt: skip

    @property
    def order(self) -> StreamId:
        return order_of(self.id)

    def to_client(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "kind": self.kind, "data": self.data}
