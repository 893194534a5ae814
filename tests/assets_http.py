"""Following an asset through the HTTP API, as a client would: shared by the integration and the
browser tests."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest


def wait_final(api: httpx.Client, asset_id: str, timeout_s: float = 180) -> dict[str, Any]:
    """The asset once it is ready or failed; the test fails if it is neither in time."""
    deadline = time.monotonic() + timeout_s
    asset: dict[str, Any] = {}
    while time.monotonic() < deadline:
        asset = api.get(f"/v1/assets/{asset_id}").json()
        if asset["status"] in ("ready", "failed"):
            return asset
        time.sleep(0.5)
    pytest.fail(f"asset {asset_id} did not finish: {asset}")
