"""What the origin and the local edge delivered per playback session, from the players' CMCD.

Players send CMCD (streamcore/cmcd.py) on every manifest and segment request to the sources we
serve ourselves. The origin and the local edge count, per playback session, what they served,
in memory, and add it to Redis every ``FLUSH_EVERY_S`` in one pipeline: never a Redis call per
request (these are the hot paths). The analytics service reads the records to join a session's
QoE events with what delivery saw. The record is the one named here:

    key     analytics:origin:{sid}        a hash; expires RECORD_TTL_S after its last write
    fields  requests, bytes, errors       counters: responses, media bytes, status >= 400
            bs                            counter: requests that carried CMCD ``bs`` (starved)
            su                            counter: requests that carried CMCD ``su`` (startup)
            sid_mismatch                  counter: CMCD sid differed from the token's ``sid``
            by:{service}                  counter per server (``origin``, ``edge:{name}``)
            ot:{object type}              counter per CMCD ``ot`` (m, v, a, i, ...)
            br, bl, mtp, tb               the last request's values (kbps, ms, kbps, kbps)
            cid, sf, st                   the last request's content id, format, stream type
            first_at, last_at             epoch ms of the first and last flush with requests

Which session a request belongs to: the URL token's ``sid`` claim (signed: the stream slot's
session id, or the anonymous player's own) when it has one, else the CMCD ``sid``, which must
then be a UUID. Only requests whose token verified are counted (streamcore/web/access.py marks
them), so nobody makes records without a playback grant. A batch Redis refuses is dropped and
logged: these are analytics, never the record of anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from uuid import UUID

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.typing import EncodableT, FieldT

from streamcore import cmcd
from streamcore.cache.redis_client import create_redis
from streamcore.web.access import GRANT_KEY
from streamcore.web.service import SETTINGS_KEY, Handler

log = logging.getLogger(__name__)

PREFIX = "analytics:origin"
RECORD_TTL_S = 24 * 3600
FLUSH_EVERY_S = 5.0
MAX_SESSIONS = 20_000  # sessions counted between two flushes; more are not counted
_PIPELINE = 500  # sessions per pipeline
_LAST = ("br", "bl", "mtp", "tb", "cid", "sf", "st")


def session_key(sid: str) -> str:
    """The Redis hash of one playback session's delivery record."""
    return f"{PREFIX}:{sid}"


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)
    last: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + amount


def _uuid(text: object) -> str | None:
    try:
        return str(UUID(str(text)))
    except ValueError:
        return None


class DeliveryRecorder:
    """Per-session counters of one process, flushed to Redis by `run`."""

    def __init__(self, redis: Redis, service: str) -> None:
        self.redis, self.service = redis, service
        self._tallies: dict[str, _Tally] = {}
        self._skipped = 0

    def observe(self, token_sid: str | None, data: dict[str, cmcd.Value], status: int,
                size: int) -> None:  # fmt: skip
        """Count one response of a verified request carrying CMCD `data`."""
        claimed = _uuid(data["sid"]) if "sid" in data else None
        sid = token_sid or claimed
        if sid is None:
            return
        tally = self._tallies.get(sid)
        if tally is None:
            if len(self._tallies) >= MAX_SESSIONS:
                self._skipped += 1
                return
            tally = self._tallies[sid] = _Tally()
        tally.add("requests")
        tally.add(f"by:{self.service}")
        if status >= 400:
            tally.add("errors")  # its body is an error, not media: no bytes counted
        else:
            tally.add("bytes", size)
        for flag in ("bs", "su"):
            if data.get(flag) is True:
                tally.add(flag)
        if "ot" in data:
            tally.add(f"ot:{data['ot']}")
        if token_sid is not None and "sid" in data and claimed != token_sid:
            tally.add("sid_mismatch")
        tally.last.update({k: str(data[k]) for k in _LAST if k in data})

    async def flush(self) -> int:
        """Add the counts since the last flush to Redis; the sessions written."""
        if not self._tallies:
            return 0
        batch, self._tallies = self._tallies, {}
        if self._skipped:
            log.warning("delivery: %d requests of sessions past the first %d not counted",
                        self._skipped, MAX_SESSIONS)  # fmt: skip
            self._skipped = 0
        now_ms = str(int(time.time() * 1000))
        items = list(batch.items())
        try:
            for start in range(0, len(items), _PIPELINE):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for sid, tally in items[start : start + _PIPELINE]:
                        key = session_key(sid)
                        for name, amount in tally.counts.items():
                            pipe.hincrby(key, name, amount)
                        last: dict[FieldT, EncodableT] = {"last_at": now_ms}
                        last.update(tally.last.items())
                        pipe.hset(key, mapping=last)
                        pipe.hsetnx(key, "first_at", now_ms)
                        pipe.expire(key, RECORD_TTL_S)
                    await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("delivery: Redis unavailable (%s); dropped %d sessions' counts",
                        exc, len(batch))  # fmt: skip
            return 0
        return len(batch)

    async def run(self, every_s: float = FLUSH_EVERY_S) -> None:
        """Flush every `every_s` until cancelled."""
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.flush()
            except Exception:  # a bug must not stop the counting for the process's lifetime
                log.exception("delivery: flush failed")


DELIVERY_KEY = web.AppKey("delivery_recorder", DeliveryRecorder)


def install(app: web.Application, service: str) -> None:
    """Count `app`'s deliveries as `service`: a cleanup context (the Redis client and the
    flushing task; the last counts are flushed on close) and the middleware, which the caller
    puts in its middleware list (outside its JSON error middleware, to see final statuses)."""

    async def resources(app: web.Application) -> AsyncIterator[None]:
        redis = create_redis(app[SETTINGS_KEY])
        recorder = app[DELIVERY_KEY] = DeliveryRecorder(redis, service)
        task = asyncio.create_task(recorder.run(), name=f"delivery-{service}")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await recorder.flush()
        await redis.aclose()

    app.cleanup_ctx.append(resources)


def _size(response: web.StreamResponse) -> int:
    """The body's length as answered (Content-Length: the range's for a 206), headers aside."""
    if response.content_length is not None:
        return response.content_length
    body = getattr(response, "body", None)
    return len(body) if isinstance(body, bytes | bytearray) else 0


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count a verified request that carries CMCD, once its response is known."""
    data = cmcd.of_query(request.query) if cmcd.PARAM in request.query else None
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if data is not None:
            _observe(request, data, exc.status, 0)
        raise
    if data is not None:
        _observe(request, data, response.status, _size(response))
    return response


def _observe(request: web.Request, data: dict[str, cmcd.Value], status: int, size: int) -> None:
    grant = request.get(GRANT_KEY)
    recorder = request.app.get(DELIVERY_KEY)
    if grant is None or recorder is None:
        return
    recorder.observe(_uuid(grant.session_id) if grant.session_id else None, data, status, size)
