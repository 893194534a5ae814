"""``streamcore titles``: import, generate, list and show catalog titles, through the HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
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
from cli.titles import catalog, rows

app = typer.Typer(
    help="Catalog titles: import a catalog file, generate one, list, show.", no_args_is_help=True
)


def _send(client: ApiClient, batch: list[rows.Row], summary: dict[str, Any]) -> None:
    """One batch; a batch the API finds too large is split in two."""
    try:
        result = client.import_titles([row.payload for row in batch])
    except ApiClientError as exc:
        if exc.status == 413 and len(batch) > 1:
            _send(client, batch[: len(batch) // 2], summary)
            _send(client, batch[len(batch) // 2 :], summary)
            return
        if exc.status in (0, 401, 403, 503):  # the API is unreachable or refuses us: stop here
            fail(str(exc))
        summary["failed"] += len(batch)
        summary["errors"] += [{"row": row.number, "message": exc.message} for row in batch]
        return
    for outcome in result["results"]:
        row = batch[outcome["index"]]
        if outcome.get("error"):
            summary["failed"] += 1
            summary["errors"].append({"row": row.number, "message": outcome["error"]})
        else:
            summary[outcome["status"]] += 1


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Rows per request.")] = 500,
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid rows even if some are invalid.")
    ] = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Create or update titles from a .json or .csv file; importing twice changes nothing.

    Rows are keyed by (kind, tmdb_id). Series go before episodes, which name their series by
    series_tmdb_id. A certification (G, PG-13, TV-MA, ...) is checked by the API, row by row;
    a row without one keeps the title's. Exit code 1 if any row failed.
    """
    try:
        valid, invalid = rows.read(path)
    except rows.CatalogFileError as exc:
        fail(str(exc))
    summary: dict[str, Any] = {
        "file": str(path), "rows": len(valid) + len(invalid), "created": 0, "updated": 0,
        "unchanged": 0, "failed": len(invalid), "errors": [e.as_dict() for e in invalid],
    }  # fmt: skip
    if not invalid or skip_invalid:
        ordered = sorted(valid, key=lambda row: row.payload.get("kind") == "episode")
        columns = (TextColumn("import"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with (
            api_client(api) as client,
            Progress(*columns, console=err_console, disable=json_output) as progress,
        ):
            task = progress.add_task("rows", total=len(ordered))
            for start in range(0, len(ordered), batch_size):
                batch = ordered[start : start + batch_size]
                _send(client, batch, summary)
                progress.advance(task, len(batch))
    summary["errors"].sort(key=lambda e: e["row"])
    if json_output:
        print_json(summary)
    else:
        _print_summary(summary, imported=not invalid or skip_invalid)
    if summary["failed"]:
        raise typer.Exit(1)


def _print_summary(summary: dict[str, Any], *, imported: bool) -> None:
    for error in summary["errors"][:50]:
        err_console.print(f"[red]row {error['row']}:[/] {error['message']}", highlight=False)
    if len(summary["errors"]) > 50:
        err_console.print(f"... and {len(summary['errors']) - 50} more")
    if not imported:
        err_console.print("nothing imported: fix the rows above, or pass --skip-invalid")
        return
    console.print(
        f"{summary['rows']} rows: [green]{summary['created']} created[/], "
        f"{summary['updated']} updated, {summary['unchanged']} unchanged, "
        f"[red]{summary['failed']} failed[/]"
    )


@app.command()
def generate(
    count: Annotated[int, typer.Option(min=1, max=1_000_000, help="How many rows.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Same seed, same catalog.")] = 1,
    first_tmdb_id: Annotated[
        int, typer.Option(min=1, max=2**31 - 10_000_000, help="tmdb ids start above this.")
    ] = 1000,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="A .json or .csv file (default: JSON on stdout).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Write a synthetic catalog, the same for the same options (tests, benchmarks)."""
    generated = catalog.generate(count, seed, first_tmdb_id)
    if output is None:
        print_json({"titles": generated})
        return
    catalog.write(generated, output)
    err_console.print(f"wrote {len(generated)} titles to {output}")


def _table(items: list[dict[str, Any]]) -> Table:
    table = Table()
    columns = ("id", "kind", "title", "year", "genres", "rating", "certification", "access")
    for column in columns:
        table.add_column(column, overflow="fold")
    for t in items:
        access = t.get("access", "free") + (" (locked)" if t.get("locked") else "")
        table.add_row(t["id"], t["kind"], t["title"], str(t["year"] or ""),
                      ", ".join(t["genres"]), str(t["rating"] or ""),
                      t.get("certification") or "", access)  # fmt: skip
    return table


@app.command("list")
def list_command(
    genre: Annotated[
        list[str] | None, typer.Option(help="Titles with this genre (repeatable).")
    ] = None,
    year: Annotated[int | None, typer.Option()] = None,
    q: Annotated[str | None, typer.Option("--q", "-q", help="Search in titles.")] = None,
    kind: Annotated[str | None, typer.Option(help="movie, series or episode.")] = None,
    sort: Annotated[
        str, typer.Option(help="title, year, rating, created; '-' reverses.")
    ] = "title",
    limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
    cursor: Annotated[str | None, typer.Option(help="Page after this cursor.")] = None,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """List titles (movies and series unless --kind), filtered and sorted."""
    params = {"genre": genre or [], "year": year, "q": q, "kind": kind, "sort": sort,
              "limit": limit, "cursor": cursor}  # fmt: skip
    page = api_call(api, lambda c: c.titles({k: v for k, v in params.items() if v is not None}))
    if json_output:
        print_json(page)
        return
    console.print(_table(page["items"]))
    if page["next_cursor"]:
        console.print(f"more: --cursor {page['next_cursor']}", soft_wrap=True, highlight=False)


@app.command()
def show(title_id: str, json_output: JsonOption = False, api: ApiOption = None) -> None:
    """One title with its assets (a series with its episodes)."""
    title = api_call(api, lambda c: c.title(title_id))
    if json_output:
        print_json(title)
        return
    console.print(f"[bold]{title['title']}[/] ({title['kind']}, {title['year'] or 'no year'})")
    console.print(title["description"] or "", highlight=False)
    console.print(
        f"genres: {', '.join(title['genres']) or '-'}; rating: {title['rating']}; "
        f"certification: {title.get('certification') or 'none'}; "
        f"access: {title.get('access', 'free')}{' (locked)' if title.get('locked') else ''}"
    )
    for asset in title["assets"]:
        console.print(f"asset {asset['id']}: {asset['role']}, {asset['status']}")
    if title.get("episodes"):
        console.print(_table(title["episodes"]))


@app.command("set-access")
def set_access(
    title_id: str,
    access: Annotated[str, typer.Argument(help="free (every plan) or premium.")],
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:
    """Make a title free or premium (premium titles play only on plans that include them)."""
    if access not in ("free", "premium"):
        raise typer.BadParameter("free or premium", param_hint="ACCESS")
    title = api_call(api, lambda c: c.update_title(title_id, {"access": access}))
    if json_output:
        print_json(title)
        return
    console.print(f"{title['title']}: {title['access']}", highlight=False)
