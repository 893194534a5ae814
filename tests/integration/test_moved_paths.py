"""The catalog's old viewer paths answer 308 to where they moved, in the streaming service.

Behind the gateway the new paths reach the streaming service; here the catalog and the
streaming service are each built in this process against the stack, and the redirect is
followed by hand to the streaming service.
"""

from __future__ import annotations

import uuid

import pytest
from aiohttp.test_utils import TestClient

from streamcore.settings import Settings
from tests.integration.published import catalog_row

pytestmark = pytest.mark.stack

ASSET = str(uuid.uuid4())
MOVED = [
    ("GET", f"/v1/assets/{ASSET}/playback?ttl=600", f"/v1/playback/{ASSET}?ttl=600"),
    ("GET", f"/v1/assets/{ASSET}/playback", f"/v1/playback/{ASSET}"),
    ("GET", f"/v1/assets/{ASSET}/steering/hls?_HLS_pathway=edge",
     f"/v1/playback/{ASSET}/steering/hls?_HLS_pathway=edge"),
    ("GET", f"/v1/assets/{ASSET}/progress", f"/v1/progress/{ASSET}"),
    ("PUT", f"/v1/assets/{ASSET}/progress", f"/v1/progress/{ASSET}"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "old", "new"), MOVED)
async def test_old_viewer_paths_answer_a_permanent_redirect_to_the_new_one(
    client: TestClient, method: str, old: str, new: str
) -> None:
    # No API key, as none was needed: a PUT from a player is redirected, not refused.
    response = await client.request(
        method, old, json={"position_s": 1, "session_id": "s"}, allow_redirects=False
    )
    assert response.status == 308
    assert response.headers["Location"] == new


async def test_a_redirected_client_gets_the_same_answers_from_the_streaming_service(
    client: TestClient, streaming: TestClient, stack: Settings
) -> None:
    asset_id = await catalog_row(stack)
    old = f"/v1/assets/{asset_id}/steering/dash"
    moved = await client.get(old, allow_redirects=False)
    assert moved.status == 308
    response = await streaming.get(moved.headers["Location"])
    assert response.status == 200
    assert (await response.json())["SERVICE-LOCATION-PRIORITY"] == ["edge", "origin"]
    # A PUT keeps its method and body across a 308.
    viewer = {"X-Viewer-Id": str(uuid.uuid4())}
    body = {"position_s": 7, "session_id": "s"}
    old = f"/v1/assets/{asset_id}/progress"
    moved = await client.put(old, json=body, headers=viewer, allow_redirects=False)
    put = await streaming.put(moved.headers["Location"], json=body, headers=viewer)
    assert put.status == 204
    got = await streaming.get(f"/v1/progress/{asset_id}", headers=viewer)
    assert (await got.json())["position_s"] == 7
