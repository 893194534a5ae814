"""`streamcore history import` end to end, through the stack's gateway: a CSV naming people by
email and profile name and titles by tmdb id, with --create-missing. The auth service resolves
(and creates) the accounts and profiles, the catalog the titles, the streaming service writes
the viewings (POST /v1/admin/history). Run twice, the second run writes and creates nothing.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from streamcore.settings import Settings

pytestmark = pytest.mark.stack


def _history(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess, with the stack's settings (exported by the session fixture),
    a config folder of its own (no person signed in: the service account's key)."""
    env = {k: v for k, v in os.environ.items() if k != "STREAMCORE_API_KEY"}
    env["XDG_CONFIG_HOME"] = str(config)
    return subprocess.run(
        [sys.executable, "-m", "cli", "history", "import", *args, "--json"], env=env,
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def _summary(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def _movies(api: httpx.Client, count: int) -> list[int]:
    """`count` new movies in the catalog; their tmdb ids."""
    first = random.randrange(10**8, 2 * 10**9)
    titles = [
        {"title": f"History import {first + i}", "kind": "movie", "tmdb_id": first + i,
         "runtime_min": 90, "year": 2001}
        for i in range(count)
    ]  # fmt: skip
    response = api.post("/v1/titles/batch", json={"titles": titles})
    assert response.status_code == 200, response.text
    return [t["tmdb_id"] for t in titles]


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_importing_a_csv_twice_writes_and_creates_only_the_first_time(
    stack: Settings, api: httpx.Client, tmp_path: Path
) -> None:
    tmdb = _movies(api, 3)
    ann, bob = (f"{who}-{uuid.uuid4().hex[:10]}@example.org" for who in ("ann", "bob"))
    people = [(ann, "Ann"), (ann.upper(), "Kids"), (bob, "Bob")]  # one account, spelt twice
    rows = [
        {"account_email": email, "profile_name": name, "tmdb_id": tmdb[(i // 3) % 3],
         "watched_at": f"2024-05-0{1 + i % 3}T20:{i:02d}:00+02:00",
         "completion": round(0.1 * (1 + i % 9), 2)}
        for i, (email, name) in enumerate(people * 4)
    ]  # fmt: skip
    # A later viewing of one they watched before, further along.
    rows.append({**rows[0], "watched_at": "2024-06-01T10:00:00Z", "completion": 0.95})
    path = tmp_path / "history.csv"
    _write_csv(path, rows)

    first = _history(tmp_path, str(path), "--create-missing", "--batch-size", "5")
    summary = _summary(first)
    assert first.returncode == 0, (summary, first.stderr)
    assert summary["rows"] == len(rows) and summary["rejected"] == 0, summary
    assert summary["written"] >= len({(r["account_email"].lower(), r["profile_name"],
                                       r["tmdb_id"]) for r in rows})  # fmt: skip
    assert summary["written"] + summary["unchanged"] == len(rows)
    assert (summary["accounts_created"], summary["profiles_created"]) == (2, 3)

    again = _history(tmp_path, str(path), "--create-missing")
    second = _summary(again)
    assert again.returncode == 0, (second, again.stderr)
    assert (second["written"], second["unchanged"], second["rejected"]) == (0, len(rows), 0)
    assert (second["accounts_created"], second["profiles_created"]) == (0, 0)

    # The accounts and profiles exist; Ann's history holds what she watched, each title at
    # its latest viewing (the streaming service learns whose profile it is from auth).
    resolved = api.post(
        "/v1/admin/profiles/resolve",
        json={"items": [{"account_email": e, "profile_name": n} for e, n in people]},
    ).json()["items"]
    assert all("profile_id" in item for item in resolved), resolved
    assert len({item["account_id"] for item in resolved}) == 2
    history = api.get(f"/v1/profiles/{resolved[0]['profile_id']}/history")
    assert history.status_code == 200, history.text
    ids = {t: api.get("/v1/titles", params={"tmdb_id": t, "kind": "movie"}).json()["items"][0]["id"]
           for t in tmdb}  # fmt: skip
    latest = {
        ids[r["tmdb_id"]]: max(
            datetime.fromisoformat(o["watched_at"]) for o in rows
            if (o["account_email"], o["profile_name"], o["tmdb_id"])
            == (ann, "Ann", r["tmdb_id"])
        )
        for r in rows if (r["account_email"], r["profile_name"]) == (ann, "Ann")
    }  # fmt: skip
    shown = {i["title_id"]: datetime.fromisoformat(i["last_watched_at"])
             for i in history.json()["items"]}  # fmt: skip
    assert shown == latest


def test_rows_rejected_here_or_by_the_api_are_named_by_line(
    api: httpx.Client, tmp_path: Path
) -> None:
    (movie,) = _movies(api, 1)
    email = f"carol-{uuid.uuid4().hex[:10]}@example.org"
    good = {"account_email": email, "profile_name": "Carol", "tmdb_id": movie,
            "watched_at": "2024-05-01T20:00:00Z", "position_s": 600}  # fmt: skip
    rows = [
        good,  # line 2
        {**good, "watched_at": "2024-05-01T21:00:00"},  # line 3: no time zone
        {**good, "tmdb_id": movie + 1},  # line 4: not in the catalog (as a movie)
        {**good, "account_email": f"dave-{uuid.uuid4().hex[:8]}@example.org"},  # 5: unknown
    ]
    path = tmp_path / "history.csv"
    _write_csv(path, rows)
    done = _history(tmp_path, str(path))  # without --create-missing: Carol is unknown too
    summary = _summary(done)
    assert done.returncode == 1 and summary["written"] == 0
    # Who is checked before what: line 4 is refused for its account first.
    assert {(e["line"], e["code"]) for e in summary["errors"]} == {
        (2, "unknown_account"), (3, "invalid_row"), (4, "unknown_account"),
        (5, "unknown_account"),
    }  # fmt: skip
    created = _summary(_history(tmp_path, str(path), "--create-missing"))
    assert {(e["line"], e["code"]) for e in created["errors"]} == {
        (3, "invalid_row"), (4, "unknown_tmdb_id"),
    }  # fmt: skip
    assert created["written"] == 2 and created["accounts_created"] == 2
