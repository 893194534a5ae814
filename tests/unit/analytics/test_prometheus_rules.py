"""The Prometheus alerting rules export (analytics/alerts/prometheus.py) and the committed
file of the default rules, configs/prometheus/alerts.yml."""

from __future__ import annotations

from pathlib import Path

import yaml

from analytics.alerts.prometheus import render, rules_document
from streamcore.settings import AlertRule, AnalyticsSettings

COMMITTED = Path(__file__).parents[3] / "configs" / "prometheus" / "alerts.yml"


def test_the_committed_file_is_what_the_generator_writes_for_the_default_rules() -> None:
    assert COMMITTED.read_text() == render(AnalyticsSettings().alert_rules), (
        "regenerate: streamcore analytics alert-rules --prometheus -o configs/prometheus/alerts.yml"
    )


def test_the_file_has_prometheus_rule_file_structure() -> None:
    document = yaml.safe_load(COMMITTED.read_text())
    assert set(document) == {"groups"}
    (group,) = document["groups"]
    assert set(group) == {"name", "rules"} and group["rules"]
    for rule in group["rules"]:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}
        assert isinstance(rule["expr"], str) and rule["for"].endswith("m")
        assert rule["labels"]["severity"] in ("info", "warning", "critical")
        assert rule["annotations"]["summary"]
    names = [rule["alert"] for rule in group["rules"]]
    assert names == [rule.name for rule in AnalyticsSettings().alert_rules]


def test_expressions_read_the_exported_gauges_and_haproxy() -> None:
    rules = (
        AlertRule(name="slow_starts", metric="start_failure_percentage", threshold=2.5,
                  for_minutes=4, severity="critical", summary="s"),
        AlertRule(name="origin_down", metric="healthy_instances", op="<", threshold=2,
                  service="origin"),
    )  # fmt: skip
    (group,) = rules_document(rules)["groups"]
    first, second = group["rules"]
    assert first["expr"] == "max(analytics_start_failure_percentage) > 2.5"
    assert first["for"] == "4m"
    assert second["expr"] == 'haproxy_backend_active_servers{proxy="origin"} < 2'
    assert second["labels"] == {"severity": "warning", "service": "origin"}
    assert second["annotations"] == {"summary": "origin_down"}
