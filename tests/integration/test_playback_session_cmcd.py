"""One playback session id from the playback API to the origin, against the real stack.

GET /v1/playback signs the player's session id into the URLs' token (``sid``), a session's URLs
carry the session's id; the origin serves signed URLs that carry a player's CMCD query data as
it serves them without (CMCD decides nothing: a tampered or foreign token still fails), never
copies CMCD into the URIs of query-token manifests, and counts what it delivered per session
in Redis (streamcore/delivery.py), from verified requests only.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import quote, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from origin.app import create_app
from streamcore import delivery, signing
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings
from tests.integration.published import Published, catalog_row

pytestmark = pytest.mark.stack


@pytest.fixture
async def origin(stack: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(stack))) as c:
        yield c


def _token(stack: Settings, published: Published, **kw: object) -> str:
    key_id = stack.origin.active_key_id
    assert key_id is not None
    scope = f"/assets/{published.asset_id}/"
    return signing.sign(stack.origin.signing_keys, key_id, scope, ttl_s=600, **kw)  # type: ignore[arg-type]


def _cmcd(sid: str, **extra: str) -> str:
    pairs = {"br": "900", "bl": "4000", "ot": "v", "sf": "h", "sid": f'"{sid}"', **extra}
    return quote(",".join(f"{k}={v}" if v else k for k, v in sorted(pairs.items())))


def _token_of(url: str) -> str:
    return urlsplit(url).path.split("/t/", 1)[1].split("/", 1)[0]


async def test_playback_urls_carry_the_players_session_id_as_a_signed_claim(
    streaming: TestClient, stack: Settings
) -> None:
    asset = await catalog_row(stack)
    sid = uuid.uuid4()
    viewer = {"X-Viewer-Id": str(uuid.uuid4())}
    response = await streaming.get(f"/v1/playback/{asset}?session_id={sid}", headers=viewer)
    assert response.status == 200, await response.text()
    for source in (await response.json())["sources"]:
        if "/t/" in source["hls"]:
            grant = signing.grant_of(_token_of(source["hls"]), stack.origin.signing_keys)
            assert grant is not None and grant.session_id == str(sid), source
    plain = await (await streaming.get(f"/v1/playback/{asset}", headers=viewer)).json()
    grant = signing.grant_of(_token_of(plain["sources"][-1]["hls"]), stack.origin.signing_keys)
    assert grant is not None and grant.session_id is None
    refused = await streaming.get(f"/v1/playback/{asset}?session_id=not-a-uuid", headers=viewer)
    assert refused.status == 400 and "session_id" in await refused.text()
    # A session's URLs name the session.
    started = await streaming.post("/v1/sessions", json={"asset_id": str(asset)}, headers=viewer)
    body = await started.json()
    token = _token_of(body["playback"]["sources"][-1]["hls"])
    slot = signing.grant_of(token, stack.origin.signing_keys)
    assert slot is not None and slot.session_id == body["session_id"]


async def test_signed_urls_with_cmcd_verify_and_tampered_ones_still_fail(
    origin: TestClient, stack: Settings, published: Published
) -> None:
    sid = str(uuid.uuid4())
    token = _token(stack, published, session_id=sid)
    segment = f"{published.prefix}video/360p/seg_00001.m4s"
    response = await origin.get(f"/t/{token}/{segment}?CMCD={_cmcd(sid)}")
    assert response.status == 200 and await response.read() == published.segment
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    refused = await origin.get(f"/t/{tampered}/{segment}?CMCD={_cmcd(sid)}")
    assert refused.status == 403 and (await refused.json())["error"]["code"] == "bad_signature"
    key_id = stack.origin.active_key_id
    assert key_id is not None
    foreign = signing.sign(stack.origin.signing_keys, key_id, f"/assets/{uuid.uuid4()}/", ttl_s=60)
    assert (await origin.get(f"/t/{foreign}/{segment}?CMCD={_cmcd(sid)}")).status == 403
    # A query-token manifest copies the token to its URIs, not the request's CMCD data.
    query = f"token={token}"
    master = await origin.get(f"/{published.prefix}master.m3u8?{query}&CMCD={_cmcd(sid)}")
    text = await master.text()
    assert master.status == 200 and f"index.m3u8?{query}\n" in text and "CMCD" not in text


async def test_the_origin_counts_each_sessions_deliveries_in_redis(
    origin: TestClient, stack: Settings, published: Published
) -> None:
    sid, stranger = str(uuid.uuid4()), str(uuid.uuid4())
    token = _token(stack, published, session_id=sid)
    segment = f"{published.prefix}video/360p/seg_00001.m4s"
    for extra in ({}, {"bs": ""}, {"su": ""}):
        assert (await origin.get(f"/t/{token}/{segment}?CMCD={_cmcd(sid, **extra)}")).status == 200
    # A CMCD sid other than the token's is counted under the token's, as a mismatch.
    await origin.get(f"/t/{token}/{segment}?CMCD={_cmcd(stranger)}")
    # A refused request, or one without a token's word for the session, counts for nobody.
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert (await origin.get(f"/t/{tampered}/{segment}?CMCD={_cmcd(stranger)}")).status == 403
    missing = await origin.get(
        f"/t/{token}/{published.prefix}video/360p/nope.m4s?CMCD={_cmcd(sid)}"
    )
    assert missing.status == 404
    await origin.app[delivery.DELIVERY_KEY].flush()  # the periodic flush may have begun
    redis = create_redis(stack)
    try:
        record = await redis.hgetall(delivery.session_key(sid))
        assert await redis.exists(delivery.session_key(stranger)) == 0
        ttl = await redis.ttl(delivery.session_key(sid))
    finally:
        await redis.aclose()
    fields = {k.decode(): v.decode() for k, v in record.items()}
    size = len(published.segment)
    assert fields.pop("first_at") and fields.pop("last_at")
    assert fields == {
        "requests": "5", "bytes": str(4 * size), "by:origin": "5", "errors": "1", "bs": "1",
        "su": "1", "ot:v": "5", "sid_mismatch": "1", "br": "900", "bl": "4000", "sf": "h",
    }  # fmt: skip
    assert 0 < ttl <= delivery.RECORD_TTL_S
