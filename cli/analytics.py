"""``streamcore analytics``: the analytics service's figures, through the gateway (admins, or
the settings' service account).

``top`` lists the most watched titles, ``qoe`` the quality of experience minute by minute
with the range's totals, ``rollup`` recomputes a range's minutes now. Ranges take an ISO 8601
instant or an age (``--since 1h``: analytics/timerange.py). ``--json`` prints the API's answer.
This typer group is where further analytics commands go (``analytics alerts``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli import analytics_alerts
from cli.common import ApiOption, JsonOption, api_call, console, print_json

app = typer.Typer(
    help="Analytics (admins): QoE per minute, top titles, rollups, alerts.", no_args_is_help=True
)

SinceOption = Annotated[
    str, typer.Option("--since", help="An ISO 8601 instant or an age: 90s, 15m, 6h, 7d")
]
UntilOption = Annotated[str | None, typer.Option("--until", help="Same forms; default: now")]
# The QoE table's columns: (API field, header).
QOE_COLUMNS = (
    ("views", "views"), ("concurrent", "concurrent"), ("video_startup_time_ms", "startup ms"),
    ("video_startup_failure_percentage", "VSF %"), ("exits_before_video_start", "EBVS"),
    ("rebuffer_percentage", "rebuffer %"), ("average_bitrate_kbps", "kbps"),
    ("playback_failure_percentage", "failures %"), ("played_ms", "played ms"),
    ("completions", "completions"),
)  # fmt: skip


def _range(since: str, until: str | None) -> dict[str, str]:
    return {"since": since, **({"until": until} if until else {})}


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


@app.command("top")
def top(
    since: SinceOption = "1h", until: UntilOption = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    json_output: JsonOption = False, api: ApiOption = None,
) -> None:  # fmt: skip
    """The most watched titles in the range: views and played time."""
    params = {**_range(since, until), "limit": limit}
    answer = api_call(api, lambda client: client.analytics("top", params))
    if json_output:
        print_json(answer)
        return
    table = Table(title=f"top titles since {since}")
    for column in ("title (or asset)", "views", "played"):
        table.add_column(column, overflow="fold")
    for item in answer["items"]:
        table.add_row(item["key"], str(item["views"]), f"{item['played_ms'] / 60000:.1f} min")
    console.print(table)


@app.command("qoe")
def qoe(
    since: SinceOption = "1h", until: UntilOption = None,
    dimension: Annotated[str, typer.Option(help="all, title or rendition")] = "all",
    key: Annotated[str | None, typer.Option(help="The title id or rendition")] = None,
    json_output: JsonOption = False, api: ApiOption = None,
) -> None:  # fmt: skip
    """Quality of experience per minute, and the range's totals."""
    params = {**_range(since, until), "dimension": dimension, **({"key": key} if key else {})}
    answer = api_call(api, lambda client: client.analytics("qoe", params))
    if json_output:
        print_json(answer)
        return
    table = Table(title=f"QoE ({dimension}{' ' + key if key else ''}) since {since}")
    table.add_column("minute")
    for _, header in QOE_COLUMNS:
        table.add_column(header, justify="right")
    for minute in answer["minutes"]:
        table.add_row(minute["bucket"], *(_cell(minute[name]) for name, _ in QOE_COLUMNS))
    table.add_row("total", *(_cell(answer["totals"][name]) for name, _ in QOE_COLUMNS))
    console.print(table)


@app.command("rollup")
def rollup(
    since: SinceOption = "15m", until: UntilOption = None,
    json_output: JsonOption = False, api: ApiOption = None,
) -> None:  # fmt: skip
    """Recompute the range's per-minute rollups now (idempotent)."""
    answer = api_call(api, lambda client: client.analytics_rollup(since, until))
    if json_output:
        print_json(answer)
        return
    console.print(
        f"{answer['minutes']} minutes recomputed ({answer['rows']} rows), "
        f"{answer['since']} to {answer['until']}"
    )


# The alerts' commands (alerts, evaluate-alerts, alert-rules) join this group.
analytics_alerts.register(app)
