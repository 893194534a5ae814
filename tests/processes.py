"""Waiting for a service process a test started itself to answer its health check."""

from __future__ import annotations

import subprocess
import time

import httpx


def wait_until_healthy(
    base: str, process: subprocess.Popen[bytes], name: str, timeout_s: float = 30
) -> None:
    """Return once `base`/healthz answers 200; fail if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, f"{name} exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{name} did not start"
        time.sleep(0.1)
