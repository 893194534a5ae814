"""``streamcore ratelimit``: the rate limits' status, the network ranges cooling down after
tripping automatic tightening, and lifting a cool-down (docs/ratelimits.md).

Admins only, through the gateway to the auth service's admin API: ``GET /v1/admin/ratelimit``,
``GET /v1/admin/ratelimit/bans``, ``DELETE /v1/admin/ratelimit/bans/{range}``.

Exit codes: 0 done, 1 the API refused or could not be reached (its message is shown; a range
not cooling down is one), 2 bad usage (a range that is not an IP network or address).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import ApiOption, JsonOption, api_call, console, print_json
from streamcore.ratelimit.bans import range_of

app = typer.Typer(
    help="Rate limits (admins): status, ranges cooling down, lift a cool-down.",
    no_args_is_help=True,
)


def _range(value: str) -> str:
    try:
        return range_of(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


RangeArgument = Annotated[
    str,
    typer.Argument(
        callback=_range,
        metavar="RANGE",
        help="The range: 203.0.113.0/24, 2001:db8:1:2300::/56, or an address in it.",
    ),
]


def _when(value: Any) -> str:
    return str(value)[:19].replace("T", " ") if value else ""


def _rule(row: dict[str, Any]) -> str:
    burst = f", burst {row['burst']}" if row.get("burst") else ""
    return f"{row['limit']} / {row['period_s']:g} s ({row['algorithm']}{burst})"


def _status_tables(status: dict[str, Any]) -> list[Table]:
    switches = Table(show_header=False, title="rate limits")
    switches.add_column("setting", style="bold")
    switches.add_column("value", overflow="fold")
    exempt = ", ".join(status.get("exempt_networks") or []) or "none"
    for key, value in (("enabled", status["enabled"]), ("shadow", status["shadow"]),
                       ("exempt networks", exempt), ("ranges cooling down", status["active_bans"]),
                       *((f"abuse.{k}", v) for k, v in status["abuse"].items())):  # fmt: skip
        switches.add_row(key, str(value))
    budgets = Table(title="budgets")
    for column in ("class", "tier", "budget"):
        budgets.add_column(column)
    for row in status["budgets"]:
        budgets.add_row(row["class"], row["tier"], _rule(row))
    tables = [switches, budgets]
    if status.get("recent_trips"):
        trips = Table(title="recent trips")
        for column in ("at", "range", "reason", "offence", "until", "requests", "4xx", "accounts"):
            trips.add_column(column, overflow="fold")
        for t in status["recent_trips"]:
            trips.add_row(
                _when(t["at"]), t["range"], t["reason"], str(t["offences"]), _when(t["until"]),
                f"{t['requests']:.0f}", f"{t['errors']:.0f}", f"{t['accounts']:.0f}",
            )  # fmt: skip
        tables.append(trips)
    return tables


@app.command("status")
def status_command(json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Switches, every budget, tightening's thresholds, bans in force, the latest trips."""
    status = api_call(api, lambda client: client.ratelimit_status())
    if json_output:
        print_json(status)
        return
    for table in _status_tables(status):
        console.print(table)


@app.command("bans")
def bans(json_output: JsonOption = False, api: ApiOption = None) -> None:
    """The ranges cooling down now, soonest to end first."""
    page = api_call(api, lambda client: client.bans())
    if json_output:
        print_json(page)
        return
    items = page.get("items") or []
    if not items:
        console.print("no range is cooling down")
        return
    table = Table()
    for column in ("range", "reason", "factor", "offences", "since", "until"):
        table.add_column(column, overflow="fold")
    for ban in items:
        table.add_row(
            ban["range"], ban["reason"], f"{ban['factor']:g}", str(ban["offences"]),
            _when(ban["since"]), _when(ban["until"]),
        )  # fmt: skip
    console.print(table)


@app.command("unban")
def unban(
    range_: RangeArgument,
    forget: Annotated[
        bool, typer.Option("--forget", help="Also forget its offences (no escalation next time).")
    ] = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Lift a range's cool-down now (its offences are kept unless --forget)."""
    api_call(api, lambda client: client.unban(range_, forget=forget))
    if json_output:
        print_json({"range": range_, "lifted": True, "offences_forgotten": forget})
        return
    console.print(f"lifted the cool-down of {range_}", highlight=False)
