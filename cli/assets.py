"""``streamcore upload`` and ``streamcore assets``: assets through the HTTP API."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from cli.api_client import ApiClient, ApiClientError
from cli.common import (
    ApiOption,
    JsonOption,
    api_call,
    api_client,
    console,
    err_console,
    fail,
    print_json,
)
from streamcore.settings import Settings

app = typer.Typer(help="Manage assets: list, show, reprocess, delete.", no_args_is_help=True)

WaitOption = Annotated[bool, typer.Option("--wait", "-w", help="Follow processing to the end.")]
_FINAL = ("ready", "failed")


def _summary(asset: dict[str, Any]) -> str:
    if asset["status"] == "failed":
        return asset["error"] or "failed"
    renditions = asset.get("renditions") or []
    if not renditions:
        return f"{asset['progress']}%"
    return ", ".join(str(r.get("name", "?")) for r in renditions)


def assets_table(assets: list[dict[str, Any]]) -> Table:
    table = Table(show_lines=False)
    for column in ("id", "title", "status", "details"):
        table.add_column(column, overflow="fold")
    style = {"ready": "green", "failed": "red", "processing": "yellow", "uploaded": "cyan"}
    for asset in assets:
        status = asset["status"]
        table.add_row(
            asset["id"], asset["title"], f"[{style.get(status, '')}]{status}[/]", _summary(asset)
        )
    return table


def _upload_one(
    client: ApiClient,
    path: Path,
    title: str | None,
    progress: Progress,
    audio_languages: list[str] | None = None,
) -> dict[str, Any]:
    task = progress.add_task(f"upload {path.name}", total=path.stat().st_size)
    try:
        return client.upload(
            path, title, lambda sent: progress.advance(task, sent), audio_languages
        )
    finally:
        progress.remove_task(task)


def _wait(client: ApiClient, assets: list[dict[str, Any]], show: bool) -> list[dict[str, Any]]:
    """Poll until every asset is ready or failed, with a progress bar each."""
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn(),
        console=err_console, disable=not show,
    ) as progress:  # fmt: skip
        tasks = {
            a["id"]: progress.add_task(f"process {a['title'][:40]}", total=100) for a in assets
        }
        current = {a["id"]: a for a in assets}
        while any(a["status"] not in _FINAL for a in current.values()):
            time.sleep(1.0)
            for asset_id, asset in current.items():
                if asset["status"] not in _FINAL:
                    current[asset_id] = client.asset(asset_id)
                    progress.update(tasks[asset_id], completed=current[asset_id]["progress"])
    return list(current.values())


def upload(
    paths: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, readable=True)],
    title: Annotated[
        str | None, typer.Option("--title", "-t", help="Title (default: file name).")
    ] = None,
    audio_lang: Annotated[
        list[str] | None,
        typer.Option(
            "--audio-lang",
            help="The language of each audio track, in the source's order (repeat it: "
            "--audio-lang en --audio-lang fr; '' keeps a track's own tag). Default: the "
            "source's tags, und where it has none.",
        ),
    ] = None,
    wait: WaitOption = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Upload video files through the API, with a progress bar; --wait follows processing."""
    uploaded = []
    with api_client(api) as client:
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn(), TimeRemainingColumn())  # fmt: skip
        try:
            with Progress(*columns, console=err_console, disable=json_output) as progress:
                for path in paths:
                    uploaded.append(_upload_one(client, path, title, progress, audio_lang))
            final = _wait(client, uploaded, show=not json_output) if wait else uploaded
        except ApiClientError as exc:
            fail(str(exc))
    if json_output:
        print_json(final)
    else:
        console.print(assets_table(final))
        if wait:
            with api_client(api) as client:
                print_playback(client, final)
    if wait and any(a["status"] == "failed" for a in final):
        raise typer.Exit(1)


VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi", ".ts")


def ingest_folder(settings: Settings, folder: Path) -> list[dict[str, Any]]:
    """Upload the folder's videos that are not in the catalog yet, wait, print playback URLs."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
    # The stack's own chore: as the service account, whoever is signed in.
    with ApiClient(settings, as_person=False) as client:
        try:
            known = {
                (a["source"]["filename"], a["source"]["size"]): a
                for a in client.assets(limit=200, status=None, cursor=None)["items"]
                if a["status"] != "failed"
            }
            todo = [p for p in files if (p.name, p.stat().st_size) not in known]
            columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                       TransferSpeedColumn(), TimeRemainingColumn())  # fmt: skip
            with Progress(*columns, console=err_console) as progress:
                fresh = [_upload_one(client, path, None, progress) for path in todo]
            assets = [known[(p.name, p.stat().st_size)] for p in files if p not in todo]
            assets = _wait(client, assets + fresh, show=True)
        except ApiClientError as exc:
            fail(f"ingest failed: {exc}")
        console.print(assets_table(assets))
        print_playback(client, assets)
    return assets


def print_playback(client: ApiClient, assets: list[dict[str, Any]]) -> None:
    """For each ready asset: the bundled player's page, and the primary source's signed HLS
    URL for any other player, whole (no wrapping)."""
    ready = [asset for asset in assets if asset["status"] == "ready"]
    for asset in ready:
        try:
            source = client.playback(asset["id"], None)["sources"][0]
        except ApiClientError as exc:
            fail(str(exc))
        console.print(f"[bold]{asset['title']}[/]")
        console.print(f"  player: {client.base_url}/player/?asset={asset['id']}",
                      soft_wrap=True, highlight=False)  # fmt: skip
        console.print(f"  HLS ({source['name']}): {source['hls']}", soft_wrap=True,
                      highlight=False)  # fmt: skip


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="Only assets in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    cursor: Annotated[str | None, typer.Option(help="Page after this cursor.")] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """List assets, newest first."""
    page = api_call(api, lambda client: client.assets(limit=limit, status=status, cursor=cursor))
    if json_output:
        print_json(page)
        return
    console.print(assets_table(page["items"]))
    if page["next_cursor"]:
        console.print(f"more: --cursor {page['next_cursor']}")


@app.command()
def show(asset_id: str, json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Everything about one asset: state, progress, source probe, renditions, error."""
    asset = api_call(api, lambda client: client.asset(asset_id))
    if json_output:
        print_json(asset)
        return
    console.print(assets_table([asset]))
    for rendition in asset.get("renditions") or []:
        console.print(f"  {rendition}")
    for audio in asset.get("audio") or []:
        default = " (default)" if audio["default"] else ""
        # Names and languages are the source's: printed as they are, never as rich markup.
        console.print(
            f"  audio {audio['name']}: {audio['label']} ({audio['language']}), "
            f"{audio['channels']} channels{default}",
            markup=False,
        )
    for warning in asset.get("warnings") or []:
        console.print(f"  [yellow]warning:[/] {escape(warning)}")


ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Also while it is processing (say, its worker died): queue it again under a new "
        "job id; the old job's writes, if it still runs, are ignored.",
    ),
]


@app.command()
def reprocess(
    asset_id: str,
    wait: WaitOption = False,
    force: ForceOption = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Process an asset again; its current version plays until the new one is ready."""
    with api_client(api) as client:
        try:
            asset = client.reprocess(asset_id, force=force)
            final = _wait(client, [asset], show=not json_output)[0] if wait else asset
        except ApiClientError as exc:
            fail(str(exc))
    if json_output:
        print_json(final)
    else:
        console.print(assets_table([final]))


@app.command()
def delete(asset_id: str, json_output: JsonOption = False, api: ApiOption = None) -> None:
    """Delete an asset, its original and every published file."""
    result = api_call(api, lambda client: client.delete(asset_id))
    if json_output:
        print_json(result)
    else:
        console.print(f"deleted {result['id']}")
