"""Job status, live: each state transition of an asset is told to its owner's sockets.

The channel is ``jobs:{owner_account_id}`` (streamcore/notify.py); an asset nobody owns (one
uploaded before accounts, or by a service account) goes to ``jobs``, which admins' sockets
get. Called after the transition's UPDATE (its own commit), with the state it left: the
repository's guarded UPDATEs return the new row only, so the caller says where it came from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from streamcore import notify
from streamcore.assets.repository import Asset
from streamcore.assets.states import AssetStatus
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings


class JobNotices:
    def __init__(self, client: aioredis.Redis, max_len: int) -> None:
        self._client, self._max_len = client, max_len

    async def moved(
        self, asset: Asset | None, previous: AssetStatus | None, reason: str | None = None
    ) -> None:
        """Tell that `asset` (None: the transition did not happen) left `previous`."""
        if asset is None:
            return
        data = {
            "asset_id": asset.id, "state": asset.status, "previous": previous,
            "reason": reason if reason is not None else asset.error,
        }  # fmt: skip
        await notify.publish(self._client, notify.jobs(asset.owner_account_id), "job", data,
                             max_len=self._max_len)  # fmt: skip


@asynccontextmanager
async def job_notices(settings: Settings) -> AsyncIterator[JobNotices]:
    """Notices on a Redis client of their own, closed afterwards (for worker tasks)."""
    client = create_redis(settings)
    try:
        yield JobNotices(client, settings.notifications.replay_max_len)
    finally:
        await client.aclose()
