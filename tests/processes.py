"""Waiting for a service process a test started itself to answer its health check."""

from __future__ import annotations

import socket
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


def free_port() -> int:
    """A TCP port nothing listens on now (the kernel's pick), for a process a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
