"""``streamcore analytics alerts`` and ``streamcore analytics alert-rules``: the alerts the
analytics service recorded (GET /v1/analytics/alerts), an evaluation on demand, and the
configured rules as a Prometheus alerting rules file (analytics/alerts/prometheus.py).

Registered on the ``analytics`` typer group (cli/analytics.py) with
``register(app)``: commands ``alerts``, ``evaluate-alerts`` and ``alert-rules``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from analytics.alerts.prometheus import render
from cli.common import ApiOption, JsonOption, api_call, console, fail, print_json
from streamcore.settings import load_settings

_COLUMNS = ("id", "rule", "state", "severity", "value", "threshold", "fired_at", "resolved_at")


def alerts(
    state: Annotated[str, typer.Option("--state", help="firing, resolved or all.")] = "all",
    since: Annotated[
        str, typer.Option("--since", help="From this long ago (30m, 2h, 7d) or an ISO time.")
    ] = "7d",
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Alerts fired since --since (and every one still firing), newest first."""
    if state not in ("firing", "resolved", "all"):
        raise typer.BadParameter("firing, resolved or all", param_hint="--state")
    page = api_call(api, lambda client: client.analytics_alerts({"state": state, "since": since}))
    if json_output:
        print_json(page["items"])
        return
    _table(page["items"])


def evaluate_alerts(json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Evaluate every alert rule now (as the processor does each minute)."""
    result = api_call(api, lambda client: client.evaluate_alerts())
    if json_output:
        print_json(result)
        return
    for transition in result["transitions"]:
        console.print(f"{transition['rule']}: {transition['status']} (value {transition['value']})")
    console.print(
        f"{len(result['transitions'])} transitions; webhook: {result['delivered']} sent, "
        f"{result['undelivered']} waiting"
    )


def alert_rules(
    prometheus: Annotated[
        bool, typer.Option("--prometheus", help="As a Prometheus alerting rules file.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """The configured alert rules (analytics.alert_rules) as Prometheus alerting rules."""
    if not prometheus:
        fail("only --prometheus is supported: say --prometheus")
    text = render(load_settings().analytics.alert_rules)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text)
    console.print(f"wrote {output}")


def _table(items: list[dict[str, Any]]) -> None:
    table = Table()
    for column in _COLUMNS:
        table.add_column(column, overflow="fold")
    for item in items:
        table.add_row(*("" if item.get(c) is None else str(item[c]) for c in _COLUMNS))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add these commands to the ``analytics`` group."""
    app.command("alerts")(alerts)
    app.command("evaluate-alerts")(evaluate_alerts)
    app.command("alert-rules")(alert_rules)
