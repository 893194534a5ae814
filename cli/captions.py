"""``streamcore captions``: an asset's captions and subtitles through the catalog API.

``add`` sends a WebVTT or SRT file (``POST /v1/assets/{id}/captions``), which the API reads
before storing it: a broken file is refused with the line at fault, printed as the API says
it. The worker then publishes it into the asset's version (``--wait`` follows that, through
the list's ``published``); ``list`` and ``remove`` are the list and the DELETE.

Exit codes: 0 done, 1 the API refused or could not be reached (its message is shown), or
``--wait`` ran out of time; 2 bad usage.
"""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
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

app = typer.Typer(
    help="An asset's captions and subtitles: add, list, remove.", no_args_is_help=True
)

WAIT_TIMEOUT_S = 120.0
_POLL_S = 1.0


class Kind(StrEnum):
    """As the API names them (packager.captions.CAPTION_KINDS)."""

    SUBTITLES = "subtitles"  # the dialogue
    CAPTIONS = "captions"  # the sounds too, for viewers who cannot hear


KindOption = Annotated[
    Kind,
    typer.Option("--kind", "-k", help="subtitles (dialogue) or captions (sounds too, for the deaf "
                 "and hard of hearing)."),
]  # fmt: skip


def _name(caption: dict[str, Any]) -> str:
    return f"{caption['language']} {caption['kind']}"


def _published(caption: dict[str, Any]) -> str:
    if caption["published"]:
        return f"[green]v{caption['published_version']}[/]"
    return "[yellow]queued[/]"


def captions_table(items: list[dict[str, Any]]) -> Table:
    table = Table(show_lines=False)
    for column in ("language", "kind", "label", "format", "cues", "revision", "published"):
        table.add_column(column, overflow="fold")
    for c in items:
        table.add_row(c["language"], c["kind"], c["label"], c["format"], str(c["cue_count"]),
                      str(c["revision"]), _published(c))  # fmt: skip
    return table


def _wait_published(client: ApiClient, added: dict[str, Any]) -> dict[str, Any]:
    """The caption once the worker has published this revision (or a newer one)."""
    deadline = time.monotonic() + WAIT_TIMEOUT_S
    with err_console.status(f"publishing {_name(added)}"):
        while time.monotonic() < deadline:
            items = client.captions(added["asset_id"])["items"]
            same = [c for c in items if (c["language"], c["kind"]) == (added["language"],
                                                                      added["kind"])]  # fmt: skip
            if not same:
                fail(f"{_name(added)} was removed before it was published")
            if same[0]["published"] and same[0]["revision"] >= added["revision"]:
                return dict(same[0])
            time.sleep(_POLL_S)
    status = client.asset(added["asset_id"])["status"]
    fail(f"{_name(added)} was not published within {WAIT_TIMEOUT_S:.0f} s (the asset is "
         f"{status}; captions are published once it is ready): see `streamcore jobs`")  # fmt: skip


@app.command()
def add(
    asset_id: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    lang: Annotated[str, typer.Option("--lang", "-l", help="BCP 47: fr, en-US, pt-BR.")],
    kind: KindOption = Kind.SUBTITLES,
    label: Annotated[
        str | None, typer.Option(help="What players' menus show (default: Français, ...).")
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Until it is published.")] = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Add a WebVTT or SRT file to an asset, or replace its language and kind's."""
    with api_client(api) as client:
        try:
            caption = client.add_caption(asset_id, file, language=lang, kind=kind, label=label)
            caption = _wait_published(client, caption) if wait else caption
        except ApiClientError as exc:
            fail(f"{file.name}: {exc}")  # a 400 names the line at fault
    if json_output:
        print_json(caption)
        return
    console.print(
        f"{_name(caption)} ({caption['label']}): {caption['cue_count']} cues, revision "
        f"{caption['revision']}, published: {_published(caption)}", highlight=False,
    )  # fmt: skip


@app.command("list")
def list_command(asset_id: str, json_output: JsonOption = False, api: ApiOption = None) -> None:
    """An asset's captions and subtitles, and whether each is published."""
    page = api_call(api, lambda client: client.captions(asset_id))
    if json_output:
        print_json(page)
    else:
        console.print(captions_table(page["items"]))


@app.command()
def remove(
    asset_id: str,
    lang: Annotated[str, typer.Argument(help="Its language, as listed.")],
    kind: KindOption = Kind.SUBTITLES,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Remove a caption and its file; the published manifests follow."""
    result = api_call(api, lambda client: client.remove_caption(asset_id, lang, kind))
    if json_output:
        print_json(result)
    else:
        console.print(f"removed {_name(result)} from {result['asset_id']}", highlight=False)
