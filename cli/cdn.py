"""``streamcore cdn`` and ``streamcore play-url``: CDNs, purges and playback URLs."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated, Any

import typer
from rich.table import Table

from cdn_adapters.base import CdnAdapter, CdnError, PurgeResult, PurgeState
from cdn_adapters.registry import adapter_named, build_adapters
from cli import audit
from cli.common import JsonOption, api_call, console, fail, print_json, settings_or_exit

app = typer.Typer(
    help="CDNs: list them, purge paths or assets, follow purges.", no_args_is_help=True
)


def _chosen(name: str | None) -> list[CdnAdapter]:
    settings = settings_or_exit()
    if name is None:
        adapters = build_adapters(settings)
        if not adapters:
            fail("no CDN is configured (settings: cdns)")
        return adapters
    try:
        return [adapter_named(settings, name)]
    except KeyError as exc:
        fail(str(exc.args[0]))


@app.command("list")
def list_command(json_output: JsonOption = False) -> None:
    """The configured CDNs, in priority order."""
    settings = settings_or_exit()
    rows = [
        {"name": config.name, "kind": config.kind, "token_mode": adapter.token_mode.value,
         "example_url": adapter.asset_url("/assets/")}
        for config, adapter in zip(settings.cdns, build_adapters(settings), strict=True)
    ]  # fmt: skip
    if json_output:
        print_json(rows)
        return
    table = Table()
    for column in ("name", "kind", "token_mode", "example_url"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("name", "kind", "token_mode", "example_url")))
    console.print(table)


async def _purge(adapters: list[CdnAdapter], paths: list[str], wait: bool) -> list[PurgeResult]:
    reference = f"cli-{uuid.uuid4()}"
    results = [await adapter.purge(paths, reference=reference) for adapter in adapters]
    deadline = time.monotonic() + 900
    while wait and any(r.state == PurgeState.IN_PROGRESS for r in results):
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
        results = [
            await adapter.purge_status(r.purge_id) if r.state == PurgeState.IN_PROGRESS else r
            for adapter, r in zip(adapters, results, strict=True)
        ]
    return results


def _result_json(result: PurgeResult) -> dict[str, Any]:
    return {"cdn": result.cdn, "purge_id": result.purge_id, "state": result.state.value,
            "paths": list(result.paths), "detail": result.detail}  # fmt: skip


@app.command()
def purge(
    paths: Annotated[
        list[str] | None, typer.Argument(help="Paths, e.g. /assets/ID/v1/master.m3u8")
    ] = None,
    asset: Annotated[
        str | None, typer.Option("--asset", help="Purge every file of this asset.")
    ] = None,
    cdn: Annotated[str | None, typer.Option("--cdn", help="Only this CDN (default: all).")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until the purge completes.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Purge an asset (--asset ID) or paths from the CDNs' caches."""
    if asset:
        try:
            targets = [f"/assets/{uuid.UUID(asset)}/"]
        except ValueError:
            fail(f"--asset: {asset!r} is not an asset id")
    elif paths:
        targets = paths
    else:
        fail("give --asset ID or one or more paths")
    if bad := [p for p in targets if not p.startswith("/")]:
        fail(f"paths must be absolute (start with /): {', '.join(bad)}")
    try:
        results = asyncio.run(_purge(_chosen(cdn), targets, wait))
    except CdnError as exc:
        fail(str(exc))
    audit.record(settings_or_exit(), "cdn_purged", {
        "paths": targets, "purges": [f"{r.cdn}:{r.purge_id}" for r in results],
    })  # fmt: skip
    if json_output:
        print_json([_result_json(r) for r in results])
        return
    for r in results:
        console.print(
            f"{r.cdn}: purge {r.purge_id} {r.state.value}" + (f" ({r.detail})" if r.detail else "")
        )


@app.command()
def status(
    purge_id: str,
    cdn: Annotated[str | None, typer.Option("--cdn", help="The CDN the purge went to.")] = None,
    json_output: JsonOption = False,
) -> None:
    """The state of a purge started earlier."""
    adapters = _chosen(cdn)
    prefix = purge_id.split(":", 1)[0]
    adapter = next((a for a in adapters if a.name == prefix), adapters[0])
    try:
        result = asyncio.run(adapter.purge_status(purge_id))
    except CdnError as exc:
        fail(str(exc))
    if json_output:
        print_json(_result_json(result))
    else:
        console.print(f"{result.cdn}: purge {result.purge_id} {result.state.value}")


def play_url(
    asset_id: str,
    ttl: Annotated[int | None, typer.Option("--ttl", help="Seconds the URLs stay valid.")] = None,
    cdn: Annotated[
        str | None, typer.Option("--cdn", help="Only this source (a CDN name or 'origin').")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Signed HLS and DASH URLs of an asset: every CDN, primary first, then the origin."""
    body = api_call(None, lambda client: client.playback(asset_id, ttl))
    if cdn is not None:
        body["sources"] = [s for s in body["sources"] if s["name"] == cdn]
        if not body["sources"]:
            fail(f"no source named {cdn!r} for this asset")
    if json_output:
        print_json(body)
        return
    for source in body["sources"]:
        console.print(f"[bold]{source['name']}[/] ({source['kind']})")
        console.print(f"  HLS:  {source['hls']}", soft_wrap=True)
        console.print(f"  DASH: {source['dash']}", soft_wrap=True)
