"""Shared fixtures: a real local stack (its own data folder and ports), started once per session.

Only tests that ask for `stack` pay for it; the stack is stopped at the end of the session and
the teardown checks that none of its processes survived.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamcore.binaries import find_ffmpeg
from streamcore.settings import Settings, load_settings
from streamcore.stack import control
from streamcore.stack.supervisor import stack_processes


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data_dir = tmp_path_factory.mktemp("stack")
    patch = pytest.MonkeyPatch()
    # Exported, so that CLI subprocesses started by tests read the same settings.
    patch.setenv("STREAMCORE_ENV", "test")
    patch.setenv("STREAMCORE_STACK__DATA_DIR", str(data_dir))
    for name in list(os.environ):
        if name.startswith("STREAMCORE_") and name not in (
            "STREAMCORE_ENV",
            "STREAMCORE_STACK__DATA_DIR",
        ):
            patch.delenv(name)
    yield load_settings()
    patch.undo()


@pytest.fixture(scope="session")
def stack(stack_settings: Settings) -> Iterator[Settings]:
    control.start(stack_settings, foreground=False)
    yield stack_settings
    control.stop(stack_settings)
    leftovers = list(stack_processes(stack_settings.stack.data_dir))
    assert not leftovers, f"processes outlived `down`: {leftovers}"


@pytest.fixture(scope="session")
def ffmpeg() -> Path:
    return find_ffmpeg().path
