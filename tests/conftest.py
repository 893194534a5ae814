"""Shared fixtures: a real local stack (its own data folder and ports), started once per session.

Only tests that ask for `stack` pay for it; the stack is stopped at the end of the session and
the teardown checks that none of its processes survived.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import control
from devstack.supervisor import stack_processes
from streamcore.binaries import find_ffmpeg
from streamcore.settings import Settings, load_settings

# Two suites can run side by side (say, a clean-clone check beside a developer's run) when one
# of them shifts every port of its stack: STREAMCORE_TEST_PORT_OFFSET=100 make test. (Keep it
# under 1000: SeaweedFS' gRPC ports sit 10000 above its HTTP ports.)
PORT_OFFSET = int(os.environ.get("STREAMCORE_TEST_PORT_OFFSET", "0"))


def _shifted_ports(base: Settings) -> dict[str, str]:
    edge = next(cdn for cdn in base.cdns if cdn.kind == "local_edge")
    return {
        "STREAMCORE_STACK__POSTGRES_PORT": str(base.stack.postgres_port + PORT_OFFSET),
        "STREAMCORE_STACK__REDIS_PORT": str(base.stack.redis_port + PORT_OFFSET),
        "STREAMCORE_STACK__S3_PORT": str(base.stack.s3_port + PORT_OFFSET),
        "STREAMCORE_STACK__SEAWEED_PORT_BASE": str(base.stack.seaweed_port_base + PORT_OFFSET),
        "STREAMCORE_CATALOG_API__PORT": str(base.catalog_api.port + PORT_OFFSET),
        "STREAMCORE_ORIGIN__PORT": str(base.origin.port + PORT_OFFSET),
        "STREAMCORE_CDNS": json.dumps(
            [{"kind": "local_edge", "name": edge.name, "port": edge.port + PORT_OFFSET}]
        ),
    }


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
    if PORT_OFFSET:
        for name, value in _shifted_ports(load_settings()).items():
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
    return find_ffmpeg().path
