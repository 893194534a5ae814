"""What a written history row sets off: trending counts it, and a profile that has just
finished something gets fresh recommendation rows (its cached ones are dropped, and its
sockets told: ``recommendations:{profile}``, streamcore/notify.py)."""

from __future__ import annotations

import redis.asyncio as aioredis

from streamcore import notify
from streamcore.settings import Settings
from streaming.history.writes import Written
from streaming.recommendations import keys, trending


async def after(client: aioredis.Redis, settings: Settings, written: list[Written]) -> None:
    if not written:
        return
    # A watch counts as far as it went: each write adds the completion it gained.
    gained = [
        (str(row.item), row.completion - row.before, row.at)
        for row in written
        if row.completion > row.before
    ]
    await trending.add(client, gained, settings.recommendations.trending_half_life_s)
    finished = {row.profile_id for row in written if row.finished(settings.history.continue_max)}
    if finished:
        async with client.pipeline(transaction=False) as pipe:
            for profile in finished:
                pipe.incr(keys.profile_version(profile))
            await pipe.execute()
        # The rows are fresh from now: the profile's sockets refetch them.
        for profile in finished:
            await notify.publish(
                client, notify.recommendations(profile), "refresh", {"profile_id": profile},
                max_len=settings.notifications.replay_max_len,
            )  # fmt: skip
