"""``streamcore recommendations``: the recommendations' batch job, run now.

``rebuild`` runs the job the scheduler runs hourly (streaming/recommendations/batch.py) in
this process, against the stack's PostgreSQL and Redis and the catalog's API: the neighbour
lists and trending are replaced, and what it built is printed (``--json`` for scripts).
"""

from __future__ import annotations

import asyncio

import typer
from redis.exceptions import RedisError

from cli.common import JsonOption, console, fail, print_json, settings_or_exit
from streaming.catalog_client import CatalogUnavailable
from streaming.worker import run_rebuild

app = typer.Typer(help="Recommendations: rebuild the neighbour lists.", no_args_is_help=True)


@app.command("rebuild")
def rebuild_command(json_output: JsonOption = False) -> None:
    """Rebuild every title's neighbour lists and trending from the history (idempotent)."""
    settings = settings_or_exit()
    try:
        with console.status("rebuilding recommendations…", spinner="dots"):
            build = asyncio.run(run_rebuild(settings))
    except CatalogUnavailable as exc:
        fail(f"the catalog cannot list its titles: {exc.message}")
    except (OSError, RedisError) as exc:
        fail(f"cannot reach the stack: {exc} (is it up? `streamcore up --detach`)")
    if json_output:
        print_json(build.to_json())
        return
    console.print(
        f"build [bold]{build.build_id}[/]: {build.titles} titles, {build.profiles} profiles, "
        f"{build.interactions} watches → {build.neighbours} neighbours in {build.seconds:.2f} s"
    )
    console.print(f"digest {build.digest}")
