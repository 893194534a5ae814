"""What every command shares: settings loading with readable errors, the API client with
clean errors, the common options, and output helpers."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from cli.api_client import ApiClient, ApiClientError
from streamcore.settings import Settings, SettingsError, load_settings

T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)

JSON_HELP = "Print machine-readable JSON instead of a table."
JsonOption = Annotated[bool, typer.Option("--json", help=JSON_HELP)]
ApiOption = Annotated[
    str | None,
    typer.Option(
        "--api",
        help="The API's base URL: the gateway's, which reaches the catalog and the streaming "
        "service (default: each service's own, from settings).",
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), code=2)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def api_client(api: str | None) -> ApiClient:
    """The API's client (catalog and streaming), at `api` or where the settings say."""
    return ApiClient(settings_or_exit(), base_url=api)


def api_call(api: str | None, call: Callable[[ApiClient], T]) -> T:
    """Run one API call; an API error becomes a clean CLI error."""
    with api_client(api) as client:
        try:
            return call(client)
        except ApiClientError as exc:
            fail(str(exc))
