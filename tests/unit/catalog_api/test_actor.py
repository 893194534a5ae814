"""The caller's opaque name, for read-your-writes routing."""

from __future__ import annotations

import uuid

from aiohttp.test_utils import make_mocked_request

from catalog_api.auth import actor


def test_a_key_is_named_by_a_hash_prefix_never_by_itself() -> None:
    one = actor(make_mocked_request("GET", "/", headers={"Authorization": "Bearer secret-1"}))
    again = actor(make_mocked_request("GET", "/", headers={"Authorization": "bearer secret-1 "}))
    other = actor(make_mocked_request("GET", "/", headers={"Authorization": "Bearer secret-2"}))
    assert one == again and one != other
    assert one is not None and one.startswith("key:") and "secret" not in one


def test_anyone_without_a_key_is_anonymous_viewers_included() -> None:
    # Viewers write to the streaming service, never to the catalog: nothing to read back here.
    viewer = str(uuid.uuid4())
    assert actor(make_mocked_request("GET", "/", headers={"X-Viewer-Id": viewer})) is None
    assert actor(make_mocked_request("GET", "/")) is None
    assert actor(make_mocked_request("GET", "/", headers={"Authorization": "Basic x"})) is None
