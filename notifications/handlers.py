"""The notifications service's two routes: a ticket for a socket, and the socket itself.

``POST /v1/ws/tickets`` trades the caller's bearer token for a single-use ticket;
``GET /v1/ws?ticket=...[&last_id=...]`` redeems it and upgrades to a WebSocket that gets the
channels of the ticket's principal (notifications/channels.py): first a ``resync`` if it
asked to resume from an id the streams no longer hold, then what it missed, then live
messages, each as ``{"id", "channel", "kind", "data"}``. The client sends nothing: pings are
the protocol's (aiohttp's ``heartbeat``), and a socket that does not answer one is closed.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from aiohttp import WSCloseCode, web
from redis.exceptions import RedisError

from notifications import replay, tickets
from notifications.channels import channels_for
from notifications.hub import Subscriber
from notifications.messages import ORIGIN, Message, StreamId, order_of, valid_id
from notifications.resources import HUB_KEY, REDIS_KEY, SOCKETS_KEY
from streamcore.auth.principal import Principal, principal
from streamcore.web.service import SETTINGS_KEY, BadRequest, ServiceUnavailable, Unauthorized
from streamcore.web.validation import invalid

log = logging.getLogger(__name__)

routes = web.RouteTableDef()

_RETRY = {"Retry-After": "2"}


def _socket_url(request: web.Request, ticket: str) -> str:
    # Behind the gateway the Host is the gateway's; wss when the client came in over TLS.
    forwarded = request.headers.get("X-Forwarded-Proto", request.scheme)
    scheme = "wss" if forwarded == "https" else "ws"
    return f"{scheme}://{request.host}/v1/ws?ticket={ticket}"


@routes.post("/v1/ws/tickets")
async def create_ticket(request: web.Request) -> web.Response:
    caller = principal(request)
    ttl_s = request.app[SETTINGS_KEY].notifications.ticket_ttl_s
    try:
        ticket = await tickets.issue(request.app[REDIS_KEY], caller, ttl_s, datetime.now(UTC))
    except RedisError as exc:
        raise ServiceUnavailable("tickets cannot be issued right now", headers=_RETRY) from exc
    body = {
        "ticket": ticket.value, "expires_at": ticket.expires_at.isoformat(),
        "url": _socket_url(request, ticket.value),
    }  # fmt: skip
    return web.json_response(body, status=201)


def _ticket(request: web.Request) -> str:
    value = request.query.get("ticket")
    if not value:
        raise Unauthorized("open the socket with ?ticket= from POST /v1/ws/tickets")
    return value


async def _redeemed(request: web.Request, value: str) -> Principal:
    try:
        caller = await tickets.redeem(request.app[REDIS_KEY], value)
    except RedisError as exc:
        raise ServiceUnavailable("tickets cannot be checked right now", headers=_RETRY) from exc
    if caller is None:
        raise Unauthorized("the ticket is unknown, expired or used: ask for another")
    return caller


def _last_id(request: web.Request) -> str | None:
    found = request.query.get("last_id")
    if found is not None and not valid_id(found):
        raise invalid("last_id", "the id of a message received, <ms>-<n>")
    return found


@routes.get("/v1/ws")
async def websocket(request: web.Request) -> web.WebSocketResponse:
    settings = request.app[SETTINGS_KEY].notifications
    ws = web.WebSocketResponse(heartbeat=settings.heartbeat_s)
    # Checked before the ticket is redeemed: a request that cannot open a socket spends none.
    ticket, last_id = _ticket(request), _last_id(request)
    if not ws.can_prepare(request).ok:
        raise BadRequest("GET /v1/ws is a WebSocket: send Upgrade: websocket")
    caller = await _redeemed(request, ticket)
    member = Subscriber(channels_for(caller), settings.queue_limit)
    hub, sockets = request.app[HUB_KEY], request.app[SOCKETS_KEY]
    try:
        # Joined before the upgrade: whatever is published once the client holds its socket
        # reaches it, even without a last_id.
        try:
            await hub.join(member)
        except RedisError as exc:
            raise ServiceUnavailable("notifications are unavailable", headers=_RETRY) from exc
        await ws.prepare(request)
        sockets.add(ws)
        await _serve(ws, member, last_id, request)
    finally:
        hub.leave(member)
        sockets.discard(ws)
    return ws


async def _serve(
    ws: web.WebSocketResponse, member: Subscriber, last_id: str | None, request: web.Request
) -> None:
    """Send (a task) while reading (pings, pongs, the close) until either ends."""
    sender = asyncio.create_task(_send(ws, member, last_id, request))
    reader = asyncio.create_task(_drain(ws))
    done, _ = await asyncio.wait({sender, reader}, return_when=asyncio.FIRST_COMPLETED)
    if sender in done and sender.exception() is not None:
        # A sender that failed (Redis, during the replay) must not leave a socket open that
        # never gets another message: the client resumes elsewhere, or here, later.
        log.warning("notifications: a socket's sender failed: %r", sender.exception())
        await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"try again")
    for task in (sender, reader):
        task.cancel()
    await asyncio.gather(sender, reader, return_exceptions=True)


async def _drain(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass  # nothing is expected from the client; reading answers pings and the close


async def _send(
    ws: web.WebSocketResponse, member: Subscriber, last_id: str | None, request: web.Request
) -> None:
    """The replay, then live messages, each once, until the socket closes."""
    sent = ORIGIN
    if last_id is not None:
        sent = order_of(last_id)
        missed = await replay.missed(request.app[REDIS_KEY], member.channels, last_id)
        if missed.resync:
            await ws.send_json({"type": "resync"})
        for message in missed.messages:
            sent = await _deliver(ws, message, sent)
    while not ws.closed:
        if member.overflowed.is_set():
            await ws.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow: resume")
            return
        sent = await _deliver(ws, await member.queue.get(), sent)


async def _deliver(ws: web.WebSocketResponse, message: Message, sent: StreamId) -> StreamId:
    # What the replay sent is also on the queue (joined first, so that nothing falls in
    # between): by id, each message goes once.
    if message.order <= sent:
        return sent
    await ws.send_json(message.to_client())
    return message.order
