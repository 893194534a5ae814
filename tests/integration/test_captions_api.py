"""Captions through the catalog API (catalog_api/assets/captions.py), against the real stack:
files kept in the uploads bucket, rows in the database, refusals that store nothing.

The catalog is built from its own factory in this process; tokens of people are minted with
the kernel and verified with the stack's keys, as in test_catalog_auth.py. Publication is the
worker's (its own tests): here a 202 is all that says the task was accepted.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from catalog_api.app import create_app
from catalog_api.openapi.schemas import CaptionOut, CaptionPage
from packager.captions import CAPTION_KINDS, MAX_BYTES
from sample_media.generate import Clip, generate
from streamcore.assets import keys
from streamcore.assets.captions import CaptionKind
from streamcore.auth.middleware import local_keys
from streamcore.auth.roles import Role
from streamcore.auth.tokens import mint
from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings
from streamcore.storage.s3 import open_storage
from tests.assets_http import admin_client

pytestmark = pytest.mark.stack
Headers = dict[str, str]

VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nBonjour\n\n00:00:01.500 --> 00:00:02.000\nSalut\n"
SRT = (
    b"1\r\n00:00:00,000 --> 00:00:01,500\r\nHello\r\n\r\n"
    b"2\r\n00:00:01,600 --> 00:00:02,000\r\n[door slams]\r\n\r\n"
    b"3\r\n00:00:02,000 --> 00:00:03,000\r\nBye\r\n"
)
# Line 7 is the second cue's timing: it ends before it starts.
BACKWARDS = (
    b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n\n2\n00:00:03.000 --> 00:00:02.000\nX\n"
)


async def _local_keys(app: web.Application) -> None:
    local_keys(app)


@pytest.fixture
async def client(stack: Settings) -> AsyncIterator[TestClient]:
    app = create_app(stack)
    app.on_startup.append(_local_keys)  # verify minted tokens with the stack's own keys
    async with TestClient(TestServer(app)) as c:
        yield c


def bearer(stack: Settings, role: Role, account: uuid.UUID, maturity: str | None = None) -> Headers:
    token, _ = mint(
        stack.auth, account_id=account, session_id=uuid.uuid4(), role=role,
        profile_id=uuid.uuid4() if maturity else None, maturity=maturity,
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def uploaded(stack: Settings, tmp_path_factory: pytest.TempPathFactory, ffmpeg: Path) -> str:
    """A real clip uploaded through the stack's API: uploaded, processing or ready by now."""
    clip = Clip("captioned", "captioned.mp4", 320, 240, 25, 2, 2, "")
    path = generate(str(ffmpeg), clip, tmp_path_factory.mktemp("captions"))
    with admin_client(stack) as api:
        response = api.post(
            "/v1/assets", content=path.read_bytes(),
            headers={"Content-Type": "application/octet-stream", "X-Filename": quote(path.name)},
        )  # fmt: skip
        assert response.status_code == 202, response.text
        return str(response.json()["id"])


async def _asset_row(stack: Settings, status: str, owner: uuid.UUID | None = None) -> str:
    """An asset in `status` without a job (no worker touches it), owned by `owner`."""
    asset_id = uuid.uuid4()
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        await pool.execute(
            """
            INSERT INTO assets (id, title, status, source_key, source_filename, version,
                                owner_account_id)
            VALUES ($1, 'captioned', $2, 'uploads/x/source.mp4', 'x.mp4', 1, $3)
            """,
            asset_id, status, owner,
        )  # fmt: skip
    return str(asset_id)


async def _caption_keys(stack: Settings, asset_id: str) -> list[str]:
    prefix = f"{keys.upload_prefix(uuid.UUID(asset_id))}captions/"
    async with open_storage(stack) as storage:
        return sorted([o.key async for o in storage.list(stack.s3.uploads_bucket, prefix)])


async def _kept(stack: Settings, key: str) -> tuple[bytes, str | None]:
    async with open_storage(stack) as storage:
        data, info = await storage.get_bytes(stack.s3.uploads_bucket, key)
        return data, info.content_type


async def _post(
    client: TestClient, asset_id: str, data: Any, headers: Headers, **params: str
) -> aiohttp.ClientResponse:
    return await client.post(f"/v1/assets/{asset_id}/captions", params=params, data=data,
                             headers=headers)  # fmt: skip


async def _json(response: aiohttp.ClientResponse, status: int) -> Any:
    assert response.status == status, await response.text()
    return await response.json()


async def _listed(client: TestClient, asset_id: str) -> list[dict[str, Any]]:
    page = await _json(await client.get(f"/v1/assets/{asset_id}/captions"), 200)
    CaptionPage.model_validate(page)
    return list(page["items"])


def test_the_api_kinds_are_the_packagers() -> None:
    assert get_args(CaptionKind) == CAPTION_KINDS


async def test_webvtt_and_srt_are_added_listed_replaced_and_removed(
    client: TestClient, stack: Settings, auth: Headers, uploaded: str
) -> None:
    vtt = {**auth, "Content-Type": "text/vtt"}
    french = await _json(await _post(client, uploaded, VTT, vtt, lang="fr"), 202)
    CaptionOut.model_validate(french)
    assert french == {
        "asset_id": uploaded, "language": "fr", "kind": "subtitles", "label": "Français",
        "origin": "sidecar", "format": "webvtt", "cue_count": 2, "revision": 1,
        "published": False, "published_version": None,
        "links": {"self": f"/v1/assets/{uploaded}/captions/fr/subtitles"},
    }  # fmt: skip
    vtt_key = f"uploads/{uploaded}/captions/fr-subtitles.vtt"
    assert await _kept(stack, vtt_key) == (VTT, "text/vtt")  # as sent

    form = aiohttp.FormData()
    form.add_field("lang", "en-us")
    form.add_field("kind", "captions")
    form.add_field(
        "file", io.BytesIO(SRT), filename="movie.en.srt", content_type="application/x-subrip"
    )
    english = await _json(await _post(client, uploaded, form, auth), 202)
    assert (english["language"], english["kind"], english["format"]) == ("en-US", "captions", "srt")
    assert english["label"] == "English (United States) (CC)" and english["cue_count"] == 3
    srt_key = f"uploads/{uploaded}/captions/en-us-captions.srt"
    assert await _kept(stack, srt_key) == (SRT, "application/x-subrip")
    listed = await _listed(client, uploaded)
    assert [(c["language"], c["kind"]) for c in listed] == [
        ("en-US", "captions"),
        ("fr", "subtitles"),
    ]

    # The same language and kind again: a new revision, in the file's new format, with a label.
    srt = {**auth, "Content-Type": "application/x-subrip"}
    replaced = await _post(client, uploaded, SRT, srt, lang="fr", label="Français (film)")
    replaced_body = await _json(replaced, 202)
    assert (replaced_body["revision"], replaced_body["format"]) == (2, "srt")
    assert replaced_body["label"] == "Français (film)" and not replaced_body["published"]
    fr_srt_key = f"uploads/{uploaded}/captions/fr-subtitles.srt"
    assert await _caption_keys(stack, uploaded) == [srt_key, fr_srt_key]  # the .vtt is gone

    removed = client.delete(f"/v1/assets/{uploaded}/captions/EN-US/captions", headers=auth)
    assert await _json(await removed, 202) == {
        "deleted": True, "asset_id": uploaded, "language": "en-US", "kind": "captions"
    }  # fmt: skip
    assert [c["language"] for c in await _listed(client, uploaded)] == ["fr"]
    assert await _caption_keys(stack, uploaded) == [fr_srt_key]
    again = client.delete(f"/v1/assets/{uploaded}/captions/en-US/captions", headers=auth)
    assert (await _json(await again, 404))["error"]["code"] == "not_found"


async def test_a_broken_file_is_refused_with_its_line_and_nothing_is_stored(
    client: TestClient, stack: Settings, auth: Headers
) -> None:
    asset_id = await _asset_row(stack, "ready")
    before = await _listed(client, asset_id)
    for body, content_type in ((BACKWARDS, "text/vtt"), (BACKWARDS, "application/octet-stream")):
        refused = await _post(client, asset_id, body, {**auth, "Content-Type": content_type},
                              lang="de")  # fmt: skip
        error = (await _json(refused, 400))["error"]
        assert error["code"] == "invalid_caption"
        assert error["message"].startswith("line 7: end time 00:00:02.000 is before start")
        assert error["details"] == [
            {"field": "file", "line": 7, "message": error["message"].removeprefix("line 7: ")}
        ]
    form = aiohttp.FormData()
    form.add_field("file", b"\xff\xfe not a caption", filename="x.srt")
    refused = await _post(client, asset_id, form, auth, lang="de")
    assert (await _json(refused, 400))["error"]["message"].startswith("line 1: ")
    assert await _listed(client, asset_id) == before == []
    assert await _caption_keys(stack, asset_id) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "lang"),
        ({"lang": "klingon-dialect"}, "lang"),
        ({"lang": "x-private"}, "lang"),
        ({"lang": "fr", "kind": "karaoke"}, "kind"),
        ({"lang": "fr", "label": "x" * 101}, "label"),
        ({"lang": "fr", "label": "tab\there"}, "label"),
        ({"lang": "fr", "colour": "red"}, "colour"),
    ],
)
async def test_bad_parameters_are_a_400_naming_them(
    client: TestClient, stack: Settings, auth: Headers, params: dict[str, str], field: str
) -> None:
    asset_id = await _asset_row(stack, "ready")
    refused = await _post(client, asset_id, VTT, {**auth, "Content-Type": "text/vtt"}, **params)
    error = (await _json(refused, 400))["error"]
    assert error["code"] == "invalid_request"
    assert [d["field"] for d in error["details"]] == [field], error
    assert await _caption_keys(stack, asset_id) == []


async def test_who_may_add_list_and_remove(client: TestClient, stack: Settings) -> None:
    alice_id = uuid.uuid4()
    alice, bob = bearer(stack, Role.CREATOR, alice_id), bearer(stack, Role.CREATOR, uuid.uuid4())
    viewer = bearer(stack, Role.VIEWER, uuid.uuid4())
    asset_id = await _asset_row(stack, "ready", owner=alice_id)
    vtt = {"Content-Type": "text/vtt"}
    # A viewer's role cannot add at all; another creator's asset is as if absent.
    assert (await _post(client, asset_id, VTT, {**viewer, **vtt}, lang="fr")).status == 403
    refused = await _post(client, asset_id, VTT, {**bob, **vtt}, lang="fr")
    assert (await _json(refused, 404))["error"]["code"] == "not_found"
    assert await _json(await _post(client, asset_id, VTT, {**alice, **vtt}, lang="fr"), 202)
    path = f"/v1/assets/{asset_id}/captions/fr/subtitles"
    assert (await client.delete(path, headers=bob)).status == 404
    assert (await client.delete(path, headers=viewer)).status == 403
    # Reading is public, as the asset is, but not above a profile's maturity level (an asset
    # in no title counts as adult).
    for headers in ({}, viewer, bob):
        listed = await _json(await client.get(f"/v1/assets/{asset_id}/captions", headers=headers),
                             200)  # fmt: skip
        assert [c["language"] for c in listed["items"]] == ["fr"]
    kids = bearer(stack, Role.VIEWER, uuid.uuid4(), maturity="kids")
    hidden = await client.get(f"/v1/assets/{asset_id}/captions", headers=kids)
    assert (await _json(hidden, 404))["error"]["code"] == "not_found"
    assert (await _json(await client.delete(path, headers=alice), 202))["deleted"] is True


async def test_unknown_failed_and_unsupported(
    client: TestClient, stack: Settings, auth: Headers
) -> None:
    vtt = {**auth, "Content-Type": "text/vtt"}
    for missing in (str(uuid.uuid4()), "not-an-id"):
        assert (await _post(client, missing, VTT, vtt, lang="fr")).status == 404
        assert (await client.get(f"/v1/assets/{missing}/captions")).status == 404
    failed = await _asset_row(stack, "failed")
    conflict = (await _json(await _post(client, failed, VTT, vtt, lang="fr"), 409))["error"]
    assert conflict["code"] == "conflict"
    ready = await _asset_row(stack, "ready")
    html = {**auth, "Content-Type": "text/html"}
    unsupported = await _post(client, ready, VTT, html, lang="fr")
    assert (await _json(unsupported, 415))["error"]["code"] == "unsupported_media_type"
    for lang, kind in (("fr", "karaoke"), ("not a language", "subtitles"), ("fr", "subtitles")):
        gone = await client.delete(f"/v1/assets/{ready}/captions/{lang}/{kind}", headers=auth)
        assert gone.status == 404, (lang, kind)
    assert await _caption_keys(stack, failed) == await _caption_keys(stack, ready) == []


async def test_a_too_large_file_is_a_413_and_nothing_is_stored(
    client: TestClient, stack: Settings, auth: Headers
) -> None:
    asset_id = await _asset_row(stack, "ready")
    big = VTT + b"\n" * MAX_BYTES
    vtt = {**auth, "Content-Type": "text/vtt"}
    declared = await _post(client, asset_id, io.BytesIO(big), vtt, lang="fr")  # Content-Length
    assert (await _json(declared, 413))["error"]["code"] == "payload_too_large"

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: found while reading
        for start in range(0, len(big), 1024 * 1024):
            yield big[start : start + 1024 * 1024]

    assert (await _post(client, asset_id, streamed(), vtt, lang="fr")).status == 413
    form = aiohttp.FormData()
    form.add_field("file", io.BytesIO(big), filename="big.vtt", content_type="text/vtt")
    assert (await _post(client, asset_id, form, auth, lang="fr")).status == 413
    assert await _listed(client, asset_id) == []
    assert await _caption_keys(stack, asset_id) == []
