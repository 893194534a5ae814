"""`streamcore captions` against the real stack, through the gateway as a user would: add,
list, remove, and a broken file's refusal (exit 1, the API's message naming the line, no
traceback). Publication (`--wait`) is the worker's, tested with it.

Each test has its own config folder (XDG_CONFIG_HOME): the CLI calls with the settings'
service account, whoever is signed in on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from streamcore.db.database import pool_context
from streamcore.db.schemas import Schema
from streamcore.settings import Settings

pytestmark = pytest.mark.stack

VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nBonjour\n"
SRT = "1\n00:00:00,000 --> 00:00:01,000\n[thunder]\n\n2\n00:00:01,000 --> 00:00:02,000\nHi\n"
# Line 7: the second cue ends before it starts.
BACKWARDS = (
    "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello\n\n2\n00:00:03.000 --> 00:00:02.000\nX\n"
)


class Cli:
    def __init__(self, config_home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if k != "STREAMCORE_API_KEY"}
        self.env.update({"XDG_CONFIG_HOME": str(config_home), "COLUMNS": "200"})

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "cli", "captions", *args], env=self.env,
                              capture_output=True, text=True, check=False, timeout=60)  # fmt: skip

    def json(self, *args: str) -> Any:
        done = self.run(*args, "--json")
        assert done.returncode == 0, f"{args}: {done.stderr or done.stdout}"
        return json.loads(done.stdout)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "config")


@pytest.fixture
async def asset_id(stack: Settings) -> str:
    """A ready asset without a job: nothing but the captions' task touches it."""
    new_id = uuid.uuid4()
    async with pool_context(stack, schema=Schema.CATALOG) as pool:
        await pool.execute(
            """
            INSERT INTO assets (id, title, status, source_key, source_filename, version)
            VALUES ($1, 'cli captions', 'ready', 'uploads/x/source.mp4', 'x.mp4', 1)
            """,
            new_id,
        )
    return str(new_id)


def _file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_add_list_and_remove(cli: Cli, asset_id: str, tmp_path: Path) -> None:
    added = cli.run("add", asset_id, _file(tmp_path, "film.fr.vtt", VTT), "--lang", "fr")
    assert added.returncode == 0, added.stderr
    assert "fr subtitles (Français): 1 cues, revision 1, published: queued" in added.stdout
    srt = _file(tmp_path, "film.en.srt", SRT)
    english = cli.json("add", asset_id, srt, "--lang", "en", "--kind", "captions",
                       "--label", "English SDH")  # fmt: skip
    assert (english["language"], english["kind"], english["format"]) == ("en", "captions", "srt")
    assert (english["label"], english["cue_count"], english["published"]) == (
        "English SDH",
        2,
        False,
    )

    listed = cli.json("list", asset_id)
    assert [(c["language"], c["kind"]) for c in listed["items"]] == [
        ("en", "captions"), ("fr", "subtitles"),
    ]  # fmt: skip
    table = cli.run("list", asset_id)
    assert table.returncode == 0 and "English SDH" in table.stdout and "queued" in table.stdout

    removed = cli.run("remove", asset_id, "fr")
    assert removed.returncode == 0, removed.stderr
    assert f"removed fr subtitles from {asset_id}" in removed.stdout
    gone = cli.json("remove", asset_id, "en", "--kind", "captions")
    assert gone == {"deleted": True, "asset_id": asset_id, "language": "en", "kind": "captions"}
    assert cli.json("list", asset_id) == {"items": []}


def test_a_broken_file_is_refused_with_its_line(cli: Cli, asset_id: str, tmp_path: Path) -> None:
    done = cli.run("add", asset_id, _file(tmp_path, "broken.vtt", BACKWARDS), "--lang", "fr")
    assert done.returncode == 1, done
    assert "broken.vtt: line 7: end time 00:00:02.000 is before start time" in done.stderr
    assert "invalid_caption" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert cli.json("list", asset_id) == {"items": []}


def test_refusals_before_and_by_the_api(cli: Cli, asset_id: str, tmp_path: Path) -> None:
    vtt = _file(tmp_path, "a.vtt", VTT)
    no_lang = cli.run("add", asset_id, vtt)
    assert no_lang.returncode == 2 and "--lang" in no_lang.stderr, no_lang
    bad_kind = cli.run("add", asset_id, vtt, "--lang", "fr", "--kind", "karaoke")
    assert bad_kind.returncode == 2, bad_kind
    bad_lang = cli.run("add", asset_id, vtt, "--lang", "elvish")
    assert bad_lang.returncode == 1 and "lang:" in bad_lang.stderr, bad_lang
    missing = cli.run("remove", asset_id, "de")
    assert missing.returncode == 1 and "HTTP 404" in missing.stderr, missing
    for done in (bad_lang, missing):
        assert "Traceback" not in done.stderr + done.stdout
