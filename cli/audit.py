"""``streamcore audit``: the security audit log (GET /v1/admin/audit), and what the CLI adds to
it itself.

Most admin commands go through the services, which record what they audit. A few act directly
with the operator's settings (CDN purges through the adapters, dead jobs re-queued in Redis):
for those the CLI publishes the event itself (streamcore/auth/audit.py's hand-off, which the
auth service appends to its table), naming who ran it as the services would: the signed-in
person, else the service account.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import redis.asyncio as aioredis
import typer
from rich.table import Table

from cli.api_client import ApiClient, ApiClientError
from cli.common import ApiOption, JsonOption, api_call, console, err_console, print_json
from streamcore.auth.audit import AuditEvent, publish
from streamcore.settings import Settings

_RELATIVE = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def since_timestamp(value: str, now: datetime | None = None) -> str:
    """``15m``, ``2h``, ``7d`` (that long ago) or an ISO 8601 time -> an ISO 8601 UTC time."""
    if match := _RELATIVE.match(value.strip()):
        delta = timedelta(**{_UNITS[match[2]]: int(match[1])})
        return ((now or datetime.now(UTC)) - delta).isoformat()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither a duration (30m, 2h, 7d) nor an ISO 8601 time"
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _describe(detail: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in detail.items())


def audit(
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account's id.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="From this long ago (30m, 2h, 7d) or an ISO time."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only events of this kind, e.g. login_failed.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Page after this cursor.")] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Security events, newest first: sign-ins and failures, role changes, sign-outs, grants."""
    params: dict[str, Any] = {"limit": limit}
    for name, value in (("account", account), ("kind", kind), ("cursor", cursor)):
        if value:
            params[name] = value
    if since:
        params["since"] = since_timestamp(since)
    page = api_call(api, lambda client: client.audit(params))
    if json_output:
        print_json(page["items"])
        return
    table = Table()
    for column in ("at", "kind", "actor", "account", "ip", "detail"):
        table.add_column(column, overflow="fold")
    for event in page["items"]:
        table.add_row(
            str(event["at"])[:19], event["kind"], event["actor"], event.get("account_id") or "",
            event.get("ip") or "", _describe(event.get("detail") or {}),
        )  # fmt: skip
    console.print(table if page["items"] else "no events")
    if page.get("next_cursor"):
        console.print(f"more: --cursor {page['next_cursor']}")


def record(settings: Settings, kind: str, detail: dict[str, Any]) -> None:
    """Audit an action the CLI took without a service (best effort: a warning if it cannot)."""
    try:
        with ApiClient(settings) as client:
            actor = client.actor()
            account = actor.removeprefix("account:") if actor.startswith("account:") else None
        event = AuditEvent(kind=kind, actor=actor, account_id=account, detail=detail)
        asyncio.run(_publish(settings, event))
    except (ApiClientError, OSError, aioredis.RedisError) as exc:
        err_console.print(f"[yellow]warning:[/] not audited ({kind}): {exc}")


async def _publish(settings: Settings, event: AuditEvent) -> None:
    client = aioredis.Redis.from_url(settings.redis_dsn, socket_connect_timeout=3)
    try:
        await publish(client, event)
    finally:
        await client.aclose()
