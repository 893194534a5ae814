"""``streamcore analytics top|qoe|rollup`` against the stack, through the gateway with the
settings' service account (as every command calls the API)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from analytics.rollups import floor_minute
from streamcore.settings import Settings
from tests.integration.analytics.events import batch, event, heartbeat, wait_for_events

pytestmark = pytest.mark.stack


def _cli(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "cli", "analytics", *args], capture_output=True,
                          text=True, check=False, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr or done.stdout
    return done.stdout


async def test_the_cli_rolls_up_and_reads_a_range(stack: Settings) -> None:
    base = floor_minute(datetime.now(UTC)) - timedelta(hours=4)
    asset, session = uuid.uuid4(), f"cli-{uuid.uuid4().hex[:8]}"
    events = [event("start", base), event("first_frame", base + timedelta(milliseconds=600)),
              heartbeat(base + timedelta(seconds=10), 9_400, 3000, "720p")]  # fmt: skip
    async with httpx.AsyncClient(base_url=stack.gateway.entry_url) as http:
        assert (
            await http.post("/v1/events", json=batch(session, asset, events))
        ).status_code == 202
    await wait_for_events(stack, [session], 3)
    since, until = base.isoformat(), (base + timedelta(minutes=1)).isoformat()

    rolled = json.loads(_cli("rollup", "--since", since, "--until", until, "--json"))
    assert rolled["minutes"] == 1 and rolled["rows"] >= 3
    top = json.loads(_cli("top", "--since", since, "--until", until, "--json"))
    assert top["items"] == [{"key": str(asset), "views": 1, "played_ms": 9_400}]
    qoe = json.loads(_cli("qoe", "--since", since, "--until", until, "--json"))
    assert qoe["totals"]["video_startup_time_ms"] == 600.0
    table = _cli("qoe", "--since", since, "--until", until)
    assert "total" in table and "600.0" in table
