"""``streamcore subscriptions``: every subscription, one, and its history (admins; the
subscriptions service's admin API, docs/subscriptions.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from cli.common import ApiOption, JsonOption, api_call, console, print_json

app = typer.Typer(
    help="Subscriptions (admins): list them, show one, its history.", no_args_is_help=True
)
IdArgument = Annotated[str, typer.Argument(help="The subscription's id.")]
STATES = "Active, GracePeriod, Suspended, Cancelled or Expired"


def _table(items: list[dict[str, Any]]) -> Table:
    table = Table()
    for column in ("id", "account", "plan", "state", "period end", "pending", "version"):
        table.add_column(column, overflow="fold")
    for sub in items:
        table.add_row(
            sub["id"], sub["account_id"], sub["plan"], sub["state"],
            str(sub["period_end"])[:19], sub.get("pending_plan") or "", str(sub["version"]),
        )  # fmt: skip
    return table


@app.command("list")
def list_command(
    state: Annotated[str | None, typer.Option("--state", help=f"Only those {STATES}.")] = None,
    plan: Annotated[str | None, typer.Option("--plan", help="Only those of this plan.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Page after this cursor.")] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Subscriptions, newest first."""
    params: dict[str, Any] = {"limit": limit}
    params.update({k: v for k, v in (("state", state), ("plan", plan), ("cursor", cursor)) if v})
    page = api_call(api, lambda client: client.subscriptions(params))
    if json_output:
        print_json(page)
        return
    console.print(_table(page["items"]) if page["items"] else "no subscriptions")
    if page.get("next_cursor"):
        console.print(f"more: --cursor {page['next_cursor']}")


@app.command("show")
def show(subscription: IdArgument, json_output: JsonOption = False, api: ApiOption = None) -> None:
    """One subscription."""
    found = api_call(api, lambda client: client.subscription(subscription))
    if json_output:
        print_json(found)
        return
    console.print(_table([found]))
    for key in ("payment_method", "retry_count", "next_retry_at", "grace_until",
                "suspended_until", "created_at"):  # fmt: skip
        console.print(f"{key}: {found.get(key)}", highlight=False)


@app.command("events")
def events(
    subscription: IdArgument, json_output: JsonOption = False, api: ApiOption = None
) -> None:
    """A subscription's history, oldest first: every transition, who made it, when."""
    history = api_call(api, lambda client: client.subscription_events(subscription))
    if json_output:
        print_json(history)
        return
    table = Table()
    for column in ("seq", "at", "event", "from", "to", "source"):
        table.add_column(column, overflow="fold")
    for e in history["items"]:
        table.add_row(str(e["seq"]), str(e["at"])[:19], e["event"], e["from_state"] or "",
                      e["to_state"], e["source"])  # fmt: skip
    console.print(table)
