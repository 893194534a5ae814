"""``streamcore history import FILE``: load viewing history from another system, through the
gateway like every command (admins, or the settings' service account).

The file is read twice: first every row is checked locally (cli/history_file.py), then the
valid ones go in batches of ``--batch-size``. For each batch, who is resolved by the auth
service (``POST /v1/admin/profiles/resolve``, with ``--create-missing`` creating missing
accounts, without a password, and profiles), what by the catalog (``GET
/v1/titles?tmdb_id=N&kind=K``, each id asked once), and the viewings are written by the
streaming service (``POST /v1/admin/history``). Importing the same file again writes nothing
and creates nothing: a viewing not newer than what is stored is `unchanged`.

A row rejected (here, or by a service) is reported with its line and why, and the others go
on; ``--strict`` stops at the first (before anything is sent, for a row invalid here).

Exit codes: 0 every row imported (written or unchanged), 1 a row was rejected or the import
stopped (the API refused us or could not be reached; what was sent before stays written, and
running it again is safe), 2 the file cannot be read.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.api_client import ApiClient, ApiClientError
from cli.common import ApiOption, JsonOption, api_client, console, err_console, fail, print_json
from cli.history_file import HistoryFileError, HistoryRow, Row, RowError, read

T = TypeVar("T")
app = typer.Typer(
    help="Watch history (admins): import it from another system.", no_args_is_help=True
)

RESOLVE_MAX = 500  # POST /v1/admin/profiles/resolve's items per request
_RETRIES = 5  # a 429 or 503 with Retry-After is retried this often
_SHOWN = 50  # errors printed (all of them with --json)


class TmdbKind(StrEnum):
    MOVIE = "movie"
    SERIES = "series"
    EPISODE = "episode"


@dataclass(frozen=True)
class Options:
    kind: TmdbKind
    create_missing: bool
    batch_size: int
    strict: bool


class Stop(Exception):
    """The API refused us or could not be reached: the import ends here."""


@dataclass
class Summary:
    file: str
    rows: int = 0
    written: int = 0
    unchanged: int = 0
    accounts_created: int = 0
    profiles_created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    stopped: str | None = None

    def reject(self, row: Row, code: str, message: str) -> None:
        self.errors.append(RowError(row.line, row.number, code, message).as_dict())

    def as_dict(self) -> dict[str, Any]:
        errors = sorted(self.errors, key=lambda e: e["line"])
        return {
            "file": self.file, "rows": self.rows, "written": self.written,
            "unchanged": self.unchanged, "rejected": len(errors),
            "rejected_by_code": dict(Counter(e["code"] for e in errors)),
            "accounts_created": self.accounts_created,
            "profiles_created": self.profiles_created, "errors": errors,
            "stopped": self.stopped,
        }  # fmt: skip


def _call(call: Callable[[], T]) -> T:
    """One API call; a 429 or 503 that says when to come back is retried (a few times)."""
    for attempt in range(_RETRIES + 1):
        try:
            return call()
        except ApiClientError as exc:
            again = exc.status in (429, 503) and exc.retry_after_s is not None
            if not again or attempt == _RETRIES:
                raise
            time.sleep(min(max(exc.retry_after_s or 0.0, 0.1), 60.0))
    raise AssertionError("unreachable")


def _stop(what: str, exc: ApiClientError) -> Stop:
    if exc.status == 404:  # an old gateway or service: no such route
        return Stop(f"{what}: the API has no such endpoint (is it deployed?): {exc}")
    return Stop(f"{what}: {exc}")


Who = tuple[str, str]  # (account_email, profile_name) as the file gives them


class Importer:
    """Resolves and sends batches, remembering every profile and title it has asked about."""

    def __init__(self, client: ApiClient, summary: Summary, options: Options) -> None:
        self.client, self.summary = client, summary
        self.kind, self.create = options.kind, options.create_missing
        self.profiles: dict[Who, str | tuple[str, str]] = {}  # -> id, or (code, message)
        self.titles: dict[int, str | None] = {}  # tmdb id -> title id, None: none

    def batch(self, rows: list[Row]) -> None:
        self._resolve_profiles(rows)
        self._resolve_titles(rows)
        sent, items = [], []
        for row in rows:
            item = self._item(row)
            if item is not None:
                sent.append(row)
                items.append(item)
        if items:
            self._send(sent, items)

    def _item(self, row: Row) -> dict[str, Any] | None:
        """The viewing as POST /v1/admin/history takes it; None (and rejected) if who or
        what is unknown."""
        r = row.row
        profile_id = str(r.profile_id) if r.profile_id else self.profiles[_who(r)]
        if isinstance(profile_id, tuple):
            self.summary.reject(row, *profile_id)
            return None
        if r.title_id is not None:
            title_id: str | None = str(r.title_id)
        else:
            assert r.tmdb_id is not None  # one of the two, by HistoryRow
            title_id = self.titles[r.tmdb_id]
        if title_id is None:
            message = f"tmdb_id: the catalog has no {self.kind} with tmdb_id {r.tmdb_id}"
            self.summary.reject(row, "unknown_tmdb_id", message)
            return None
        return {
            "profile_id": profile_id, "title_id": title_id,
            "watched_at": r.watched_at.isoformat(), **r.measure(),
        }  # fmt: skip

    def _resolve_profiles(self, rows: list[Row]) -> None:
        wanted = list(dict.fromkeys(_who(r.row) for r in rows if r.row.profile_id is None))
        wanted = [w for w in wanted if w not in self.profiles]
        for start in range(0, len(wanted), RESOLVE_MAX):
            chunk = wanted[start : start + RESOLVE_MAX]
            items = [{"account_email": e, "profile_name": n} for e, n in chunk]
            try:
                answer = _call(
                    partial(self.client.resolve_profiles, items, create_missing=self.create)
                )
            except ApiClientError as exc:
                raise _stop("resolving accounts and profiles", exc) from None
            for who, got in zip(chunk, answer["items"], strict=True):
                if "error" in got:
                    error = got["error"]
                    self.profiles[who] = (error["code"], f"{error['message']} ({who[0]}, {who[1]})")
                    continue
                self.profiles[who] = got["profile_id"]
                self.summary.accounts_created += bool(got["created_account"])
                self.summary.profiles_created += bool(got["created_profile"])

    def _resolve_titles(self, rows: list[Row]) -> None:
        wanted = {r.row.tmdb_id for r in rows if r.row.tmdb_id is not None} - set(self.titles)
        for tmdb_id in sorted(wanted):
            params = {"tmdb_id": tmdb_id, "kind": self.kind.value, "limit": 1}
            try:
                page = _call(partial(self.client.titles, params))
            except ApiClientError as exc:
                raise _stop(f"looking up tmdb_id {tmdb_id} in the catalog", exc) from None
            self.titles[tmdb_id] = page["items"][0]["id"] if page["items"] else None

    def _send(self, rows: list[Row], items: list[dict[str, Any]]) -> None:
        """One batch; one the API finds too large is split in two, one it finds invalid as a
        whole is rejected (row by row)."""
        try:
            result = _call(partial(self.client.import_history, items))
        except ApiClientError as exc:
            if exc.status == 413 and len(items) > 1:
                half = len(items) // 2
                self._send(rows[:half], items[:half])
                self._send(rows[half:], items[half:])
                return
            if exc.status == 400:
                for row in rows:
                    self.summary.reject(row, exc.code, exc.message)
                return
            raise _stop("writing the history", exc) from None
        self.summary.written += result["written"]
        self.summary.unchanged += result["unchanged"]
        for rejected in result["rejected"]:
            self.summary.reject(rows[rejected["index"]], rejected["code"], rejected["message"])


def _who(row: HistoryRow) -> Who:
    return row.account_email or "", row.profile_name or ""


def _batches(path: Path, size: int) -> Iterator[list[Row]]:
    """The file's valid rows, `size` at a time (its invalid ones were reported already)."""
    batch: list[Row] = []
    for item in read(path):
        if isinstance(item, Row):
            batch.append(item)
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def _check(path: Path, summary: Summary, strict: bool) -> int:
    """Every row checked locally; the number of valid ones."""
    valid = 0
    for item in read(path):
        summary.rows += 1
        if isinstance(item, RowError):
            summary.errors.append(item.as_dict())
            if strict:
                summary.stopped = f"--strict: line {item.line} is invalid; nothing was sent"
                break
        else:
            valid += 1
    return valid


@app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True, metavar="FILE",
        help="A .csv, .json or .jsonl file.")],
    tmdb_kind: Annotated[TmdbKind, typer.Option(
        "--tmdb-kind", help="What a tmdb_id names: movie, series or episode.")] = TmdbKind.MOVIE,
    create_missing: Annotated[bool, typer.Option(
        "--create-missing", help="Create missing accounts (role viewer, no password: an admin "
        "sets it) and profiles.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=1000, help="Rows per request.")] = 500,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Stop at the first rejected row.")] = False,
    json_output: JsonOption = False,
    api: ApiOption = None,
) -> None:  # fmt: skip
    """Import viewing history: who (profile_id, or account_email with profile_name), what
    (title_id or tmdb_id), when (watched_at, ISO 8601 with a time zone) and how far
    (position_s or completion, 0 to 1). Importing the same file twice changes nothing."""
    summary = Summary(file=str(path))
    options = Options(tmdb_kind, create_missing, batch_size, strict)
    try:
        valid = _check(path, summary, strict)
        if summary.stopped is None:
            _import(path, summary, valid, options, api, quiet=json_output)
    except HistoryFileError as exc:
        fail(str(exc), code=2)
    if json_output:
        print_json(summary.as_dict())
    else:
        _print(summary.as_dict())
    if summary.errors or summary.stopped:
        raise typer.Exit(1)


def _import(
    path: Path, summary: Summary, valid: int, options: Options, api: str | None, *, quiet: bool
) -> None:
    columns = (TextColumn("import"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        api_client(api) as client,
        Progress(*columns, console=err_console, disable=quiet) as progress,
    ):
        task = progress.add_task("rows", total=valid)
        importer = Importer(client, summary, options)
        try:
            for batch in _batches(path, options.batch_size):
                importer.batch(batch)
                progress.advance(task, len(batch))
                if options.strict and summary.errors:
                    summary.stopped = "--strict: stopped after the batch with the first rejection"
                    return
        except Stop as exc:
            summary.stopped = str(exc)


def _print(summary: dict[str, Any]) -> None:
    for error in summary["errors"][:_SHOWN]:
        err_console.print(
            f"[red]line {error['line']}:[/] {error['code']}: {error['message']}", highlight=False
        )
    if len(summary["errors"]) > _SHOWN:
        err_console.print(f"... and {len(summary['errors']) - _SHOWN} more (all with --json)")
    if summary["stopped"]:
        err_console.print(f"[bold red]stopped:[/] {summary['stopped']}", highlight=False)
    reasons = ", ".join(f"{n} {code}" for code, n in summary["rejected_by_code"].items())
    console.print(
        f"{summary['rows']} rows read: [green]{summary['written']} written[/], "
        f"{summary['unchanged']} unchanged, [red]{summary['rejected']} rejected[/]"
        + (f" ({reasons})" if reasons else "")
        + f"; {summary['accounts_created']} accounts and {summary['profiles_created']} "
        "profiles created",
        highlight=False,
    )
