"""The publishers, end to end through the stack: a position reported by one device arrives
live on another device of the profile; a subscription's transitions arrive on its account's
socket."""

from __future__ import annotations

import uuid

import aiohttp
import httpx

from streamcore import notify
from streamcore.assets import keys, repository
from streamcore.auth.roles import Role
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from tests.integration.auth.auth_http import signed_in
from tests.integration.notifications.sockets import connect, headers_of, receive_where
from tests.integration.subscriptions.subs_http import VISA
from tests.streaming_http import Device


async def _asset(stack: Settings) -> uuid.UUID:
    """An asset the catalog knows (as an upload leaves it): progress is kept for known ones."""
    asset_id = uuid.uuid4()
    async with pool_context(stack, schema=Schema.CATALOG, min_size=1, max_size=1) as pool:
        await repository.create(
            pool, asset_id=asset_id, title="live progress",
            source_key=keys.source_key(asset_id, "a.mp4"), source_filename="a.mp4",
            source_size=1, content_type="video/mp4",
        )  # fmt: skip
    return asset_id


async def test_progress_from_one_device_arrives_live_on_another(
    stack: Settings, gateway: aiohttp.ClientSession
) -> None:
    phone = Device()
    television = phone.another()
    asset = await _asset(stack)
    async with await connect(gateway, headers_of(stack, television)) as ws:
        report = {"position_s": 42.0, "duration_s": 600.0, "session_id": "phone-1"}
        async with gateway.put(
            f"/v1/progress/{asset}", json=report, headers=headers_of(stack, phone)
        ) as response:
            assert response.status == 204, await response.text()
        found = await receive_where(ws, notify.progress(phone.profile_id))
    assert found["kind"] == "progress"
    data = found["data"]
    assert data["asset_id"] == str(asset) and data["position_s"] == 42.0
    assert data["duration_s"] == 600.0 and data["session_id"] == "phone-1"


async def test_a_subscription_change_arrives_on_the_accounts_socket(
    stack: Settings, gateway: aiohttp.ClientSession
) -> None:
    with httpx.Client(base_url=stack.gateway.entry_url, timeout=30) as http:
        person = signed_in(http)  # a real account, through the auth service
    channel = notify.subscription(uuid.UUID(person.account_id))
    async with await connect(gateway, person.headers) as ws:
        body = {"plan": "premium", "payment_method": VISA}
        async with gateway.post("/v1/subscription", json=body, headers=person.headers) as made:
            assert made.status == 201, await made.text()
        found = await receive_where(ws, channel)
        assert found["kind"] == "transition"
        assert found["data"]["event"] == "subscribe" and found["data"]["state"] == "Active"
        assert found["data"]["plan"] == "premium"
        async with gateway.post("/v1/subscription/cancel", headers=person.headers) as cancelled:
            assert cancelled.status == 200, await cancelled.text()
        found = await receive_where(ws, channel)
        assert found["data"]["event"] == "cancel"


async def test_an_uploads_job_transitions_arrive_on_its_owners_socket(
    stack: Settings, gateway: aiohttp.ClientSession
) -> None:
    creator = Device(role=Role.CREATOR)
    channel = notify.jobs(creator.account_id)
    headers = headers_of(stack, creator)
    async with await connect(gateway, headers) as ws:
        upload = {**headers, "Content-Type": "application/octet-stream", "X-Filename": "x.mp4"}
        async with gateway.post("/v1/assets", data=b"not a video", headers=upload) as made:
            assert made.status == 202, await made.text()
            asset_id = (await made.json())["id"]
        seen = []
        while not seen or seen[-1]["state"] not in ("ready", "failed"):
            seen.append((await receive_where(ws, channel, timeout_s=60))["data"])
    assert {found["asset_id"] for found in seen} == {asset_id}
    moves = [(found["previous"], found["state"]) for found in seen]
    # Bytes that are no video: uploaded, processing (perhaps again, on a retry), failed.
    assert moves[0] == (None, "uploaded") and moves[1] == ("uploaded", "processing")
    assert moves[-1] == ("processing", "failed") and seen[-1]["reason"]
