"""Shared fixtures: a real local stack (its own data folder and ports), started once per session.

Only tests that ask for `stack` pay for it; the stack is stopped at the end of the session and
the teardown checks that none of its processes survived.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import control
from devstack.supervisor import stack_processes
from streamcore.binaries import (
    FFmpegInfo,
    UnsupportedFFmpeg,
    find_ffmpeg,
    imageio_ffmpeg,
    system_ffmpeg,
)
from streamcore.settings import Settings, load_settings
from tests.stack_ports import shifted_ports

# Two suites can run side by side (say, a clean-clone check beside a developer's run) when one
# of them shifts every port of its stack: STREAMCORE_TEST_PORT_OFFSET=100 make test. (Keep it
# under 1000: SeaweedFS' gRPC ports sit 10000 above its HTTP ports.)
PORT_OFFSET = int(os.environ.get("STREAMCORE_TEST_PORT_OFFSET", "0"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # pytest's default temp root is shared by every run on the machine and prunes the oldest
    # runs' folders, data folders of live test stacks included: two suites side by side (with
    # different port offsets) would delete each other's PostgreSQL. One root per offset.
    if config.option.basetemp is None:
        root = Path(tempfile.gettempdir()) / f"streamcore-tests-{PORT_OFFSET}"
        config.option.basetemp = str(root)


def _ffmpeg_id(info: FFmpegInfo, kind: str) -> str:
    """ffmpeg-5.1-system, ffmpeg-9.0-imageio: which FFmpeg a test ran with, in its id."""
    version = f"{info.release[0]}.{info.release[1]}" if info.release else "git"
    return f"ffmpeg-{version}-{kind}"


def _system_ffmpeg(wheel: FFmpegInfo) -> FFmpegInfo | None:
    """The FFmpeg on PATH, unless there is none, it is the wheel's, or it is too old to use."""
    path = system_ffmpeg()
    if path is None or path.resolve() == wheel.path.resolve():
        return None
    try:
        return find_ffmpeg(path)
    except UnsupportedFFmpeg:
        return None


# The imageio-ffmpeg wheel's FFmpeg is always installed, and the same on every machine.
WHEEL_FFMPEG = find_ffmpeg(imageio_ffmpeg())
# Every FFmpeg found, as pytest params whose ids say which: the wheel's, then the system's.
FFMPEGS = [pytest.param(WHEEL_FFMPEG, id=_ffmpeg_id(WHEEL_FFMPEG, "imageio"))]
if (_system := _system_ffmpeg(WHEEL_FFMPEG)) is not None:
    FFMPEGS.append(pytest.param(_system, id=_ffmpeg_id(_system, "system")))


@pytest.fixture(scope="session")
def stack_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    data_dir = tmp_path_factory.mktemp("stack")
    patch = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name.startswith("STREAMCORE_") and name != "STREAMCORE_TEST_PORT_OFFSET":
            patch.delenv(name)
    # Exported, so that CLI subprocesses started by tests read the same settings.
    patch.setenv("STREAMCORE_ENV", "test")
    patch.setenv("STREAMCORE_STACK__DATA_DIR", str(data_dir))
    # One streaming replica, so that every run routes reads through a real standby. Its port
    # is postgres_port + 1, so the port offset below shifts it too.
    patch.setenv("STREAMCORE_STACK__POSTGRES_REPLICAS", "1")
    # The worker's FFmpeg is chosen here, not by whatever is first on PATH.
    patch.setenv("STREAMCORE_FFMPEG__PATH", str(WHEEL_FFMPEG.path))
    if PORT_OFFSET:
        for name, value in shifted_ports(load_settings(), PORT_OFFSET).items():
            patch.setenv(name, value)
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
    """The wheel's FFmpeg, the same on every machine: for tests about anything but FFmpeg
    (generating inputs, say), and the one the test stack's worker is configured with."""
    return WHEEL_FFMPEG.path


@pytest.fixture(scope="session", params=FFMPEGS)
def each_ffmpeg(request: pytest.FixtureRequest) -> FFmpegInfo:
    """Every FFmpeg found on the machine, one after the other: for tests of the pipeline."""
    info: FFmpegInfo = request.param
    return info
