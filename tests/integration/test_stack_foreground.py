"""`streamcore up` in the foreground stops everything on Ctrl-C and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from devstack.supervisor import stack_processes

# Ports of their own, so that this stack runs beside the session's test stack.
_OFFSET = int(os.environ.get("STREAMCORE_TEST_PORT_OFFSET", "0"))
PORTS = {
    "STREAMCORE_STACK__POSTGRES_PORT": str(24432 + _OFFSET),
    "STREAMCORE_STACK__REDIS_PORT": str(24379 + _OFFSET),
    "STREAMCORE_STACK__S3_PORT": str(20333 + _OFFSET),
    "STREAMCORE_STACK__SEAWEED_PORT_BASE": str(20300 + _OFFSET),
    "STREAMCORE_GATEWAY__PORT": str(24000 + _OFFSET),
    "STREAMCORE_GATEWAY__METRICS_PORT": str(24001 + _OFFSET),
    "STREAMCORE_CATALOG_API__PORT": str(24100 + _OFFSET),
    "STREAMCORE_CATALOG_API__AGENT_PORT": str(24200 + _OFFSET),
    "STREAMCORE_STREAMING__PORT": str(24110 + _OFFSET),
    "STREAMCORE_STREAMING__AGENT_PORT": str(24210 + _OFFSET),
    "STREAMCORE_ORIGIN__PORT": str(24120 + _OFFSET),
    "STREAMCORE_ORIGIN__AGENT_PORT": str(24220 + _OFFSET),
    "STREAMCORE_AUTH__PORT": str(24130 + _OFFSET),
    "STREAMCORE_AUTH__AGENT_PORT": str(24230 + _OFFSET),
    "STREAMCORE_SUBSCRIPTIONS__PORT": str(24140 + _OFFSET),
    "STREAMCORE_SUBSCRIPTIONS__AGENT_PORT": str(24240 + _OFFSET),
    "STREAMCORE_CDNS": f'[{{"kind": "local_edge", "name": "edge", "port": {24082 + _OFFSET}}}]',
}


def test_ctrl_c_stops_a_foreground_stack_completely(tmp_path: Path) -> None:
    data_dir = tmp_path / "fg"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("STREAMCORE_")},
        "STREAMCORE_ENV": "test",
        "STREAMCORE_STACK__DATA_DIR": str(data_dir),
        **PORTS,
    }
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
