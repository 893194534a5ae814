"""Reading a viewing-history file for `streamcore history import`, each row checked locally.

Formats, by the file's suffix: `.csv` (a header row naming the columns, in any order; an empty
cell is a missing value), `.json` (an array of objects; a `.json` file that does not start with
`[` is read as JSON Lines), `.jsonl` / `.ndjson` (one object per line; blank lines skipped).

Columns: who, `profile_id` (ours) or `account_email` with `profile_name`; what, `title_id`
(ours) or `tmdb_id` (of the kind `--tmdb-kind` says); when, `watched_at` (ISO 8601 with its
time zone); how far, `position_s` (seconds) or `completion` (0 to 1). Any other column is an
error: a misspelt one would otherwise be silently dropped.

A bad row is reported with the line it starts on (a CSV's header is line 1) and why, and does
not stop the others; a file that cannot be read at all (encoding, a JSON array that does not
parse, a CSV without a header or with unknown columns) raises `HistoryFileError`. Rows come
out one at a time (`read`), so a file of millions of rows is never held as rows in memory.
The checks mirror the streaming service's `POST /v1/admin/history` items (the CLI talks HTTP
only and does not import it).
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from streamcore.web.validation import field_errors

COLUMNS = (
    "profile_id", "account_email", "profile_name", "title_id", "tmdb_id", "watched_at",
    "position_s", "completion",
)  # fmt: skip
# The streaming service's bound on a position: a week.
MAX_POSITION_S = 7 * 86400
_JSON_LINES = (".jsonl", ".ndjson")


class HistoryFileError(Exception):
    """The file as a whole cannot be read (format, encoding, header)."""


def _watched_at(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("an ISO 8601 date and time as a string, such as 2024-05-01T20:15:00Z")
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 date and time: {value!r}") from None
    if when.tzinfo is None:
        raise ValueError("no time zone: end it with Z or an offset such as +02:00")
    return when


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("a number, not true or false")
    return value


def _printable(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


_Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]


class HistoryRow(BaseModel):
    """One viewing, as the file gives it (who and what are resolved to our ids later)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile_id: UUID | None = None
    # Their shape only: the auth service normalises and matches them (POST
    # /v1/admin/profiles/resolve), and a bad one fails its row there, named like any other.
    account_email: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254),
        AfterValidator(_printable),
    ] | None = None  # fmt: skip
    profile_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
        AfterValidator(_printable),
    ] | None = None  # fmt: skip
    title_id: UUID | None = None
    tmdb_id: Annotated[int, BeforeValidator(_number), Field(ge=1, le=2**31 - 1)] | None = None
    watched_at: Annotated[datetime, BeforeValidator(_watched_at)]
    position_s: Annotated[_Number, Field(ge=0, le=MAX_POSITION_S)] | None = None
    completion: Annotated[_Number, Field(ge=0, le=1)] | None = None

    @model_validator(mode="after")
    def _one_of_each(self) -> HistoryRow:
        by_name = self.account_email is not None or self.profile_name is not None
        if self.profile_id is not None and by_name:
            raise ValueError("give profile_id, or account_email with profile_name, not both")
        if self.profile_id is None and (self.account_email is None or self.profile_name is None):
            raise ValueError("give profile_id, or account_email with profile_name")
        if (self.title_id is None) == (self.tmdb_id is None):
            raise ValueError("give exactly one of title_id and tmdb_id")
        if (self.position_s is None) == (self.completion is None):
            raise ValueError("give exactly one of position_s and completion")
        return self

    def measure(self) -> dict[str, float | None]:
        return {"position_s": self.position_s, "completion": self.completion}


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file (1-based)
    number: int  # the row's place among the file's rows (1-based; a CSV's header is none)
    row: HistoryRow


@dataclass(frozen=True)
class RowError:
    line: int
    number: int
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "row": self.number, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class _Record:
    line: int
    data: Any  # an object as read; anything else is refused by `check`
    problem: str | None = None  # the record could not even be parsed


def _csv_records(path: Path) -> Iterator[_Record]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise HistoryFileError(f"{path.name}: no header row")
        names = [name.strip() for name in header]
        unknown = sorted(set(names) - set(COLUMNS))
        if unknown or len(set(names)) != len(names):
            problem = f"unknown columns {', '.join(unknown)}" if unknown else "a column twice"
            raise HistoryFileError(
                f"{path.name}: the header names {problem}; the columns are {', '.join(COLUMNS)}"
            )
        while True:
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return
            if not cells:
                continue  # a blank line
            if len(cells) > len(names):
                yield _Record(start, None, "more cells than the header has columns")
                continue
            yield _Record(start, {k: v for k, v in zip(names, cells, strict=False) if v != ""})


def _json_array_records(path: Path, text: str) -> Iterator[_Record]:
    """Each element of the array, with the line it starts on."""
    decoder, at = json.JSONDecoder(), _skip(text, 0)
    if text[at : at + 1] != "[":
        raise HistoryFileError(f"{path.name}: expected a JSON array of objects")
    at = _skip(text, at + 1)
    if text[at : at + 1] == "]":
        return
    while True:
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise HistoryFileError(f"{path.name}: {exc}") from None
        yield _Record(text.count("\n", 0, at) + 1, value)
        at = _skip(text, end)
        if text[at : at + 1] == "]":
            return
        if text[at : at + 1] != ",":
            line = text.count("\n", 0, at) + 1
            raise HistoryFileError(f"{path.name}: line {line}: expected , or ] in the array")
        at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in " \t\r\n":
        at += 1
    return at


def _json_lines_records(text: str) -> Iterator[_Record]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            yield _Record(line, json.loads(raw))
        except json.JSONDecodeError as exc:
            yield _Record(line, None, f"not JSON: {exc.msg} (column {exc.colno})")


def _records(path: Path) -> Iterator[_Record]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_records(path)
        return
    if suffix != ".json" and suffix not in _JSON_LINES:
        raise HistoryFileError(f"{path.name}: a .csv, .json or .jsonl file, please")
    text = path.read_text(encoding="utf-8-sig")
    if suffix == ".json" and text.lstrip().startswith("["):
        yield from _json_array_records(path, text)
    else:
        yield from _json_lines_records(text)


def check(record: _Record, number: int) -> Row | RowError:
    if record.problem is not None:
        return RowError(record.line, number, "invalid_row", record.problem)
    if not isinstance(record.data, dict):
        return RowError(record.line, number, "invalid_row", "expected an object")
    data = {k: v for k, v in record.data.items() if v is not None}  # null: not given
    try:
        return Row(record.line, number, HistoryRow.model_validate(data))
    except ValidationError as exc:
        problems = "; ".join(f"{d['field']}: {d['message']}" for d in field_errors(exc, "row"))
        return RowError(record.line, number, "invalid_row", problems)


def read(path: Path) -> Iterator[Row | RowError]:
    """Every row of the file, checked, in file order; HistoryFileError if it cannot be read."""
    try:
        for number, record in enumerate(_records(path), start=1):
            yield check(record, number)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise HistoryFileError(f"{path.name}: {exc}") from None
