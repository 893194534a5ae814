"""``streamcore db``: database maintenance."""

from __future__ import annotations

import asyncio

import typer

from cli.common import JsonOption, console, fail, print_json, settings_or_exit
from streamcore.db import database
from streamcore.db.migrate import MigrationError, migrate

app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@app.command("migrate")
def migrate_command(
    json_output: JsonOption = False,
) -> None:
    """Apply pending SQL migrations (safe to run any number of times)."""
    settings = settings_or_exit()

    async def run() -> list[str]:
        conn = await database.connect(settings)
        try:
            return [f"{m.version:04d}_{m.name}" for m in await migrate(conn)]
        finally:
            await conn.close()

    try:
        applied = asyncio.run(run())
    except MigrationError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot reach PostgreSQL: {exc} (is the stack up? `streamcore up --detach`)")
    if json_output:
        print_json({"applied": applied})
    elif applied:
        for name in applied:
            console.print(f"applied [bold]{name}[/]")
    else:
        console.print("database is up to date")
