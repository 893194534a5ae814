"""`streamcore up` in the foreground stops everything on Ctrl-C and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devstack.supervisor import stack_processes
from streamcore.settings import load_settings
from tests.stack_ports import shifted_ports

# Ports of their own, 4000 below the session's test stack's, so that this stack runs beside it.
_OFFSET = int(os.environ.get("STREAMCORE_TEST_PORT_OFFSET", "0")) - 4000


def test_ctrl_c_stops_a_foreground_stack_completely(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "fg"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")},
        "STREAMCORE_ENV": "test",
        "STREAMCORE_STACK__DATA_DIR": str(data_dir),
    }
    # The test profile's own ports (not the session stack's variables), each shifted: every
    # service of the settings moves, the ones added after this test was written included.
    for name in [name for name in os.environ if name.startswith("STREAMCORE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("STREAMCORE_ENV", "test")
    monkeypatch.setenv("STREAMCORE_STACK__DATA_DIR", str(data_dir))
    env |= shifted_ports(load_settings(), _OFFSET)
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 150
        for line in process.stdout:
            lines.append(line)
            if "press Ctrl-C" in line or time.monotonic() > deadline:
                break
        assert any("press Ctrl-C" in line for line in lines), "".join(lines)
        status = subprocess.run(
            [sys.executable, "-m", "cli", "status", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert status.returncode == 0, status.stdout + status.stderr
        assert json.loads(status.stdout)["healthy"] is True
        assert list(stack_processes(data_dir))

        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=90)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
            subprocess.run([sys.executable, "-m", "cli", "down"], env=env, check=False)
        if process.stdout is not None:
            process.stdout.close()
    assert process.returncode == 0, output
    assert "stack stopped" in output
    assert list(stack_processes(data_dir)) == []
