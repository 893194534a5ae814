"""Following an asset through the HTTP API, as a client would: shared by the integration and the
browser tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from streamcore.settings import Settings


def wait_final(
    api: httpx.Client, asset_id: str, timeout_s: float = 180, *, min_attempts: int = 0
) -> dict[str, Any]:
    """The asset once it is ready or failed (after at least `min_attempts` processing runs: a
    re-queued job's asset still shows the last outcome until a worker takes the job); the test
    fails if it is neither in time."""
    deadline = time.monotonic() + timeout_s
    asset: dict[str, Any] = {}
    while time.monotonic() < deadline:
        asset = api.get(f"/v1/assets/{asset_id}").json()
        if asset["status"] in ("ready", "failed") and asset["attempts"] >= min_attempts:
            return asset
        time.sleep(0.5)
    pytest.fail(f"asset {asset_id} did not finish: {asset}")


@contextmanager
def admin_client(stack: Settings) -> Iterator[httpx.Client]:
    key = stack.auth.service_key().get_secret_value()
    with httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        yield client
