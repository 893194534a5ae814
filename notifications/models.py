"""The notifications service's bodies (pydantic), which also feed its OpenAPI document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class TicketOut(BaseModel):
    ticket: str = Field(description="Single use; put it in the socket's URL")
    expires_at: datetime = Field(description="Open the socket before this instant")
    url: str = Field(description="The socket's URL, ticket included: ws(s)://host/v1/ws?ticket=")


class NotificationOut(BaseModel):
    """One message on the socket (a text frame of JSON)."""

    id: str = Field(description="Its stream id, <ms>-<n>: resume after it with last_id")
    channel: str = Field(description="e.g. progress:{profile_id}, subscription:{account_id}")
    kind: str = Field(description="What happened, e.g. progress, transition, refresh, job")
    data: Any = Field(description="The kind's payload (docs/notifications.md)")
