"""The worker loads its ladder (``worker.ladder_path``) once, at start, and refuses a bad one."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from streamcore.settings import load_settings
from transcoder.ladder import DEFAULT_LADDER


def _worker_env(tmp_path: Path, ladder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")}
    return env | {
        "STREAMCORE_ENV": "test",
        "STREAMCORE_STACK__DATA_DIR": str(tmp_path / "data"),
        "STREAMCORE_WORKER__LADDER_PATH": str(ladder),
    }


def _broken_ladder(tmp_path: Path) -> Path:
    raw = yaml.safe_load(DEFAULT_LADDER.read_text())
    raw["rungs"][0]["crf"] = 99
    path = tmp_path / "ladder.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("ladder", "named"),
    [
        (_broken_ladder, "rungs.0.crf"),
        (lambda tmp: tmp / "missing.yaml", "missing.yaml"),
    ],
)
def test_a_bad_ladder_stops_the_worker_with_the_key_named(
    tmp_path: Path, ladder: Callable[[Path], Path], named: str
) -> None:
    path = ladder(tmp_path)
    # Nothing listens on the test ports here: a worker that got past its ladder would sit
    # retrying the broker until the timeout, so only a refusal at start passes.
    result = subprocess.run(
        [sys.executable, "-m", "celery", "--app", "workers.app", "worker"],
        env=_worker_env(tmp_path, path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "worker.ladder_path" in result.stderr
    assert named in result.stderr
    assert "Traceback" not in result.stderr


def test_the_ladder_path_defaults_to_the_shipped_ladder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMCORE_ENV", "test")
    monkeypatch.setenv("STREAMCORE_STACK__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("STREAMCORE_WORKER__LADDER_PATH", raising=False)
    assert load_settings().worker.ladder_path == DEFAULT_LADDER
    assert DEFAULT_LADDER.is_file()


def test_a_relative_ladder_path_is_taken_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMCORE_ENV", "test")
    monkeypatch.setenv("STREAMCORE_STACK__DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STREAMCORE_WORKER__LADDER_PATH", "mine/ladder.yaml")
    monkeypatch.chdir(tmp_path)
    assert load_settings().worker.ladder_path == tmp_path / "mine" / "ladder.yaml"
