"""The asset endpoints of the catalog API, against the real database and object storage.

Most go through a test client built from the real app factory (so settings can be varied);
the stack's own API process is used where a user's path matters.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from catalog_api.app import create_app
from streamcore.settings import Settings
from streamcore.storage import ObjectNotFound
from streamcore.storage.s3 import open_storage

pytestmark = pytest.mark.stack


def _with_upload_limit(settings: Settings, limit: int) -> Settings:
    api = settings.catalog_api.model_copy(update={"max_upload_bytes": limit})
    return settings.model_copy(update={"catalog_api": api})


@pytest.fixture
async def client(stack: Settings) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(_with_upload_limit(stack, 4 * 1024 * 1024)))) as c:
        yield c


async def _source_bytes(settings: Settings, key: str) -> bytes:
    async with open_storage(settings) as storage:
        data, _ = await storage.get_bytes(settings.s3.uploads_bucket, key)
        return data


async def _upload_count(settings: Settings) -> int:
    async with open_storage(settings) as storage:
        return len([i async for i in storage.list(settings.s3.uploads_bucket, "uploads/")])


async def test_multipart_upload_is_stored_and_described(
    client: TestClient, auth: dict[str, str], stack: Settings
) -> None:
    payload = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 100
    form = aiohttp.FormData()
    form.add_field("file", payload, filename="clip.mp4", content_type="video/mp4")
    form.add_field("title", "My first clip")
    response = await client.post("/v1/assets", data=form, headers=auth)
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["status"] == "uploaded"
    assert body["title"] == "My first clip"
    assert body["source"] == {
        "filename": "clip.mp4", "size": len(payload), "content_type": "video/mp4", "probe": None,
        "audio_languages": [],
    }  # fmt: skip
    assert response.headers["Location"] == f"/v1/assets/{body['id']}"

    fetched = await (await client.get(f"/v1/assets/{body['id']}")).json()
    assert fetched["id"] == body["id"]
    assert await _source_bytes(stack, f"uploads/{body['id']}/source.mp4") == payload


async def test_a_form_names_the_audio_languages_before_its_file(
    client: TestClient, auth: dict[str, str], stack: Settings
) -> None:
    payload = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 10
    form = aiohttp.FormData()
    form.add_field("audio_languages", "eng,,de-ch")
    form.add_field("file", payload, filename="dub.mp4", content_type="video/mp4")
    response = await client.post("/v1/assets", data=form, headers=auth)
    assert response.status == 202, await response.text()
    assert (await response.json())["source"]["audio_languages"] == ["en", "", "de-CH"]
    # After the file, it would come too late to refuse the upload before storing it: refused,
    # and what was stored is removed.
    late = aiohttp.FormData()
    late.add_field("file", payload, filename="late.mp4", content_type="video/mp4")
    late.add_field("audio_languages", "fr")
    before = await _source_keys(stack)
    refused = await client.post("/v1/assets", data=late, headers=auth)
    assert refused.status == 400, await refused.text()
    error = (await refused.json())["error"]
    assert error["details"][0]["field"] == "audio_languages"
    assert await _source_keys(stack) == before


async def _source_keys(stack: Settings) -> set[str]:
    async with open_storage(stack) as storage:
        return {info.key async for info in storage.list(stack.s3.uploads_bucket, "uploads/")}


async def test_raw_upload_keeps_a_safe_unicode_filename(
    client: TestClient, auth: dict[str, str], stack: Settings
) -> None:
    headers = {
        **auth,
        "Content-Type": "application/octet-stream",
        "X-Filename": "..%2F..%2Fetc%2F%C3%A9t%C3%A9%20%E2%80%94%20%E5%A4%8F.MOV",
        "X-Title": "%C3%89t%C3%A9%00%0A",  # control characters are dropped (NUL cannot be stored)
    }
    response = await client.post("/v1/assets", data=b"not checked here", headers=headers)
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["source"]["filename"] == "été — 夏.MOV"
    assert body["title"] == "Été"
    assert await _source_bytes(stack, f"uploads/{body['id']}/source.mov") == b"not checked here"


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "unauthorized"), ({"Authorization": "Bearer wrong-key"}, "invalid_token")],
)
async def test_writes_need_a_valid_bearer(
    client: TestClient, headers: dict[str, str], code: str
) -> None:
    response = await client.post("/v1/assets", data=b"x", headers=headers)
    assert response.status == 401
    assert (await response.json())["error"]["code"] == code
    assert "Bearer" in response.headers["WWW-Authenticate"]


async def test_declared_oversize_upload_is_refused_before_storing(
    client: TestClient, auth: dict[str, str], stack: Settings
) -> None:
    before = await _upload_count(stack)
    headers = {**auth, "Content-Type": "application/octet-stream", "X-Filename": "big.mp4"}
    body = io.BytesIO(b"x" * (5 * 1024 * 1024))  # sized: sent with a Content-Length
    response = await client.post("/v1/assets", data=body, headers=headers)
    assert response.status == 413
    assert (await response.json())["error"]["code"] == "payload_too_large"
    assert await _upload_count(stack) == before


async def test_streamed_oversize_upload_is_refused_and_nothing_is_kept(
    client: TestClient, auth: dict[str, str], stack: Settings
) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(6):  # no Content-Length: the limit is found while streaming
            yield b"y" * (1024 * 1024)

    before = await _upload_count(stack)
    headers = {**auth, "Content-Type": "application/octet-stream", "X-Filename": "big.mp4"}
    response = await client.post("/v1/assets", data=body(), headers=headers)
    assert response.status == 413
    assert await _upload_count(stack) == before


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        (b"", "application/octet-stream", 400, "bad_request"),
        (b"hello", "text/plain", 415, "unsupported_media_type"),
    ],
)
async def test_bad_uploads_get_a_json_4xx(
    client: TestClient, auth: dict[str, str], data: bytes, content_type: str, status: int, code: str
) -> None:
    response = await client.post(
        "/v1/assets", data=data, headers={**auth, "Content-Type": content_type}
    )
    assert response.status == status
    assert (await response.json())["error"]["code"] == code


async def test_a_form_without_a_file_field_is_a_400(
    client: TestClient, auth: dict[str, str]
) -> None:
    form = aiohttp.FormData()
    form.add_field("title", "no file")
    form.add_field("other", b"x", filename="x.bin")
    response = await client.post("/v1/assets", data=form, headers=auth)
    assert response.status == 400
    assert "'file'" in (await response.json())["error"]["message"]


@pytest.mark.parametrize("asset_id", [str(uuid.uuid4()), "not-a-uuid", "..%2F..%2Fetc"])
async def test_unknown_assets_are_a_json_404(client: TestClient, asset_id: str) -> None:
    response = await client.get(f"/v1/assets/{asset_id}")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "not_found"


async def test_list_pages_through_assets_newest_first(
    client: TestClient, auth: dict[str, str]
) -> None:
    headers = {**auth, "Content-Type": "application/octet-stream", "X-Filename": "p.mp4"}
    created = []
    for _ in range(3):
        response = await client.post("/v1/assets", data=b"page", headers=headers)
        created.append((await response.json())["id"])
    # Listing needs `upload` (test_catalog_auth.py: a creator lists its own); the admin, all.
    first = await (await client.get("/v1/assets", params={"limit": 2}, headers=auth)).json()
    assert [a["id"] for a in first["items"]] == created[::-1][:2]
    second = await (
        await client.get(
            "/v1/assets", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
        )
    ).json()
    assert second["items"][0]["id"] == created[0]
    bad = await client.get("/v1/assets", params={"limit": 0}, headers=auth)
    assert bad.status == 400
    bad_cursor = await client.get("/v1/assets", params={"cursor": "!!"}, headers=auth)
    assert bad_cursor.status == 400
    assert (await client.get("/v1/assets")).status == 401


async def test_delete_removes_the_row_and_then_the_files(
    client: TestClient, auth: dict[str, str], stack: Settings
) -> None:
    import asyncio

    headers = {**auth, "Content-Type": "application/octet-stream", "X-Filename": "d.mp4"}
    asset = await (await client.post("/v1/assets", data=b"delete me", headers=headers)).json()
    response = await client.delete(f"/v1/assets/{asset['id']}", headers=auth)
    assert response.status == 202
    assert (await client.get(f"/v1/assets/{asset['id']}")).status == 404
    # The stack's worker removes the original.
    async with open_storage(stack) as storage:
        for _ in range(100):
            try:
                await storage.head(stack.s3.uploads_bucket, f"uploads/{asset['id']}/source.mp4")
            except ObjectNotFound:
                break
            await asyncio.sleep(0.2)
        else:
            pytest.fail("the original was not deleted")


async def test_a_multipart_body_aiohttp_cannot_parse_is_a_json_400(
    client: TestClient, auth: dict[str, str]
) -> None:
    # A part header with a control character (what the fuzz run once sent): aiohttp's own
    # parser refuses it inside the handler; the client gets our JSON 400, not a 500.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="x\x01"\r\n\r\nv\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\n'
        b"data\r\n--b--\r\n"
    )
    headers = {**auth, "Content-Type": "multipart/form-data; boundary=b"}
    response = await client.post("/v1/assets", data=body, headers=headers)
    assert response.status == 400, await response.text()
    error = (await response.json())["error"]
    assert error["code"] == "bad_request" and "malformed" in error["message"]
