"""URL tokens on requests (the origin's and the edge's check): a player's CMCD query data is
ignored by the check, which widens nothing; and delivery counting only counts verified
requests, per playback session."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from streamcore import cmcd, signing
from streamcore.delivery import DeliveryRecorder
from streamcore.settings import Settings
from streamcore.web.access import GRANT_KEY, Forbidden, authorize, path_token_request

ASSET = "/assets/6a1f3c1e-2d7a-4b8e-9c4f-0e5d1f2a3b4c/v1/"
SID = "3f0c2a9e-5b1d-4e7f-8a6c-2d9e1b0f4a3c"
CMCD = f'br=1200,bl=8000,bs,ot=v,sf=h,sid="{SID}",su'


def _request(settings: Settings, token: str, tail: str, query: str = "") -> web.Request:
    path = f"/t/{token}/{tail}" + (f"?{query}" if query else "")
    request = make_mocked_request(
        "GET", path, match_info={"token": token, "tail": tail}, app=web.Application()
    )
    return request


def _token(settings: Settings, **kw: object) -> str:
    origin = settings.origin
    assert origin.active_key_id is not None
    return signing.sign(origin.signing_keys, origin.active_key_id, ASSET, ttl_s=600, **kw)  # type: ignore[arg-type]


def _check(settings: Settings, request: web.Request) -> signing.Grant:
    token, path = path_token_request(request)
    return authorize(request, settings, token, path)


def test_a_signed_url_with_cmcd_in_its_query_still_verifies(settings: Settings) -> None:
    token = _token(settings, session_id=SID)
    tail = ASSET.lstrip("/") + "video/720p/seg_00001.m4s"
    request = _request(settings, token, tail, f"CMCD={quote(CMCD)}")
    grant = _check(settings, request)
    assert grant.session_id == SID and request[GRANT_KEY] is grant
    assert cmcd.of_query(request.query)["sid"] == SID


def test_cmcd_does_not_open_what_the_token_does_not(settings: Settings) -> None:
    token = _token(settings, only=["360p"])
    query = f"CMCD={quote(CMCD)}"
    refused = _request(settings, token, ASSET.lstrip("/") + "video/720p/seg_00001.m4s", query)
    with pytest.raises(Forbidden) as info:
        _check(settings, refused)
    assert info.value.code == "rendition_not_allowed" and GRANT_KEY not in refused
    other = _request(settings, token, "assets/other/v1/master.m3u8", query)
    with pytest.raises(Forbidden):
        _check(settings, other)


def test_a_tampered_token_fails_with_or_without_cmcd(settings: Settings) -> None:
    token = _token(settings, session_id=SID)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    tail = ASSET.lstrip("/") + "master.m3u8"
    for query in ("", f"CMCD={quote(CMCD)}"):
        request = _request(settings, tampered, tail, query)
        with pytest.raises(Forbidden) as info:
            _check(settings, request)
        assert info.value.code == "bad_signature"


def test_the_recorder_counts_per_signed_session_and_never_trusts_a_bare_claim() -> None:
    recorder = DeliveryRecorder(redis=None, service="origin")  # type: ignore[arg-type]
    data = cmcd.parse(CMCD)
    recorder.observe(SID, data, 200, 1000)
    recorder.observe(SID, {**data, "sid": "00000000-0000-4000-8000-000000000000"}, 206, 500)
    recorder.observe(None, {"sid": "not-a-uuid", "br": 1}, 200, 10)  # no signed sid, no UUID
    recorder.observe(None, {"br": 1}, 200, 10)  # no session at all
    tallies = recorder._tallies
    assert list(tallies) == [SID]
    counts = tallies[SID].counts
    assert counts == {
        "requests": 2, "bytes": 1500, "by:origin": 2, "bs": 2, "su": 2, "ot:v": 2,
        "sid_mismatch": 1,
    }  # fmt: skip
    assert tallies[SID].last == {"br": "1200", "bl": "8000", "sf": "h"}
