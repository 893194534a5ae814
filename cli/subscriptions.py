"""``streamcore subscriptions``: accounts' subscriptions, their history, the scheduler's pass.

Admins only, through the gateway to the subscriptions service's admin API:
``GET /v1/admin/subscriptions`` (filtered by state and plan, a page at a time),
``GET /v1/admin/subscriptions/{id}`` and ``.../events`` (the append-only history of every
transition), ``POST /v1/admin/subscriptions/tick`` (the time-based transitions now: due
renewals, ends of grace and suspension, period ends; idempotent, as the scheduler runs it).

Exit codes: 0 done, 1 the API refused or could not be reached (its message is shown), 2 bad
usage (an unknown state or plan, an id that is not one).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import ApiOption, JsonOption, api_call, console, print_json, settings_or_exit

app = typer.Typer(
    help="Subscriptions (admins): list, show one, its history, run the scheduler's pass.",
    no_args_is_help=True,
)

# The lifecycle's states, as the API names them (subscriptions/states.py).
STATES = ("Active", "GracePeriod", "Suspended", "Cancelled", "Expired")


def _state(value: str | None) -> str | None:
    """A state by its name in any case, with or without separators (grace-period)."""
    if value is None:
        return None
    wanted = value.replace("_", "").replace("-", "").lower()
    for state in STATES:
        if state.lower() == wanted:
            return state
    raise typer.BadParameter(f"{value!r} is not a state: one of {', '.join(STATES)}")


def _plan(value: str | None) -> str | None:
    if value is None:
        return None
    plans = settings_or_exit().plans
    if value not in plans:
        raise typer.BadParameter(f"{value!r} is not a plan: one of {', '.join(plans.names())}")
    return value


def _id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a subscription id (a UUID)") from None


StateOption = Annotated[
    str | None,
    typer.Option("--state", callback=_state, help=f"Only this state: {', '.join(STATES)}."),
]
PlanOption = Annotated[
    str | None, typer.Option("--plan", callback=_plan, help="Only this plan (configs/plans.yaml).")
]
IdArgument = Annotated[str, typer.Argument(callback=_id, help="The subscription's id.")]


def _day(value: Any) -> str:
    return str(value)[:19].replace("T", " ") if value else ""


def subscriptions_table(items: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in (
        "id",
        "account",
        "plan",
        "state",
        "v",
        "period start",
        "period end",
        "next plan",
    ):
        table.add_column(column, overflow="fold")
    for s in items:
        table.add_row(
            str(s["id"]), str(s.get("account_id", "")), s.get("plan", ""), s.get("state", ""),
            str(s.get("version", "")), _day(s.get("period_start")), _day(s.get("period_end")),
            s.get("pending_plan") or "",
        )  # fmt: skip
    return table


@app.command("list")
def list_command(
    state: StateOption = None,
    plan: PlanOption = None,
    cursor: Annotated[str | None, typer.Option(help="Page after this cursor.")] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Subscriptions, a page at a time (``more: --cursor ...`` says there are more)."""
    params = {k: v for k, v in (("state", state), ("plan", plan), ("cursor", cursor)) if v}
    page = api_call(api, lambda client: client.subscriptions(params))
    if json_output:
        print_json(page)
        return
    items = page.get("items") or []
    console.print(subscriptions_table(items) if items else "no subscriptions")
    if page.get("next_cursor"):
        console.print(f"more: --cursor {page['next_cursor']}", highlight=False)


@app.command("show")
def show(
    subscription_id: IdArgument, json_output: JsonOption = False, api: ApiOption = None
) -> None:
    """One subscription: its account, plan, state, version, period and pending plan change."""
    subscription = api_call(api, lambda client: client.subscription(subscription_id))
    if json_output:
        print_json(subscription)
        return
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in subscription.items():
        table.add_row(key, "" if value is None else str(value))
    console.print(table)


@app.command("events")
def events(
    subscription_id: IdArgument, json_output: JsonOption = False, api: ApiOption = None
) -> None:
    """A subscription's history, oldest first: every transition, what caused it, from where."""
    page = api_call(api, lambda client: client.subscription_events(subscription_id))
    if json_output:
        print_json(page)
        return
    items = page.get("items") or []
    if not items:
        console.print("no events")
        return
    table = Table()
    for column in ("seq", "at", "event", "from", "to", "source", "detail"):
        table.add_column(column, overflow="fold")
    for e in items:
        detail = e.get("detail") or {}
        described = (
            ", ".join(f"{k}={v}" for k, v in detail.items())
            if isinstance(detail, dict)
            else str(detail)
        )
        table.add_row(
            str(e.get("seq", "")), _day(e.get("at")), e.get("event", ""), e.get("from_state") or "",
            e.get("to_state") or "", e.get("source") or "", described,
        )  # fmt: skip
    console.print(table)


@app.command("tick")
def tick(json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Run the time-based transitions now, as the scheduler does every minute (idempotent)."""
    summary = api_call(api, lambda client: client.subscriptions_tick())
    if json_output:
        print_json(summary)
        return
    if not summary:
        console.print("nothing was due")
        return
    for key, value in summary.items():
        console.print(f"{key}: {value}", highlight=False)
