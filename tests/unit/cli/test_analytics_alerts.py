"""``streamcore analytics alert-rules --prometheus``: the configured rules as a file, once the
commands are registered on a typer group (as cli/analytics.py will)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from cli.analytics_alerts import register


def _group() -> typer.Typer:
    group = typer.Typer()
    register(group)
    return group


def test_alert_rules_writes_the_configured_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMCORE_ANALYTICS__ALERT_RULES",
                       '[{"name": "few", "metric": "concurrent_viewers", "op": "<",'
                       ' "threshold": 3, "for_minutes": 5}]')  # fmt: skip
    target = tmp_path / "alerts.yml"
    done = CliRunner().invoke(_group(), ["alert-rules", "--prometheus", "-o", str(target)])
    assert done.exit_code == 0, done.output
    (rule,) = yaml.safe_load(target.read_text())["groups"][0]["rules"]
    assert rule["alert"] == "few" and rule["for"] == "5m"
    assert rule["expr"] == "max(analytics_concurrent_viewers) < 3"


def test_alert_rules_needs_a_format() -> None:
    done = CliRunner().invoke(_group(), ["alert-rules"])
    assert done.exit_code != 0
