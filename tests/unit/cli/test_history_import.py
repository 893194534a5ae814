"""`streamcore history import`'s file reading and row checks (cli/history_file.py): CSV, a JSON
array, JSON Lines; each bad row named by the line it starts on; a file that cannot be read."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from cli.history_file import HistoryFileError, Row, RowError, read

PROFILE = str(uuid.uuid4())
TITLE = str(uuid.uuid4())
WHEN = "2024-05-01T20:15:00Z"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[Row | RowError]:
    return list(read(path))


def _errors(path: Path) -> list[tuple[int, str]]:
    return [(r.line, r.message) for r in read(path) if isinstance(r, RowError)]


def _one(tmp_path: Path, record: dict[str, Any]) -> Row | RowError:
    path = _write(tmp_path, "one.jsonl", json.dumps(record) + "\n")
    (only,) = _rows(path)
    return only


def test_a_csv_reads_rows_by_name_or_by_our_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, "history.csv", (
        "account_email,profile_name,tmdb_id,watched_at,completion,profile_id,title_id,position_s\n"
        f" ann@example.org ,Ann,550,{WHEN},0.5,,,\n"
        f",,,2024-05-01T22:15:00+02:00,,{PROFILE},{TITLE},1234.5\n"
    ))  # fmt: skip
    first, second = _rows(path)
    assert isinstance(first, Row) and isinstance(second, Row)
    assert (first.line, first.number, second.line, second.number) == (2, 1, 3, 2)
    assert first.row.account_email == "ann@example.org" and first.row.profile_name == "Ann"
    assert first.row.tmdb_id == 550 and first.row.measure() == {
        "position_s": None, "completion": 0.5,
    }  # fmt: skip
    assert str(second.row.profile_id) == PROFILE and str(second.row.title_id) == TITLE
    assert second.row.watched_at.isoformat() == "2024-05-01T22:15:00+02:00"
    assert second.row.measure() == {"position_s": 1234.5, "completion": None}


def test_csv_line_numbers_count_blank_lines_and_cells_spanning_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, "history.csv", (
        "profile_id,title_id,watched_at,position_s\n"      # line 1
        f"{PROFILE},{TITLE},{WHEN},10\n"                   # line 2
        "\n"                                               # line 3: blank
        f'{PROFILE},"{TITLE}\nsecond line",{WHEN},10\n'    # lines 4-5: a quoted newline
        f"{PROFILE},{TITLE},2024-05-01T20:15:00,10\n"      # line 6: no time zone
        f"{PROFILE},{TITLE},{WHEN},10,extra\n"             # line 7: a cell too many
        f"{PROFILE},{TITLE},{WHEN},10\n"                   # line 8
    ))  # fmt: skip
    rows = _rows(path)
    assert [(r.line, r.number, isinstance(r, Row)) for r in rows] == [
        (2, 1, True), (4, 2, False), (6, 3, False), (7, 4, False), (8, 5, True),
    ]  # fmt: skip
    errors = {r.line: r.message for r in rows if isinstance(r, RowError)}
    assert errors[4].startswith("title_id: ")
    assert "time zone" in errors[6] and errors[6].startswith("watched_at: ")
    assert "more cells" in errors[7]
    assert all(r.code == "invalid_row" for r in rows if isinstance(r, RowError))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no header row"),
        (f"profile_id,title_id,watched_at,postion_s\n{PROFILE},{TITLE},{WHEN},1\n", "postion_s"),
        ("profile_id,profile_id\n", "a column twice"),
    ],
)
def test_a_csv_without_a_usable_header_cannot_be_read(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(HistoryFileError, match=problem):
        _rows(_write(tmp_path, "history.csv", text))


def test_a_json_array_names_each_object_by_the_line_it_starts_on(tmp_path: Path) -> None:
    good = {"profile_id": PROFILE, "title_id": TITLE, "watched_at": WHEN, "completion": 1}
    text = (
        "[\n"
        + json.dumps(good, indent=2) + ",\n"  # lines 2-7
        + json.dumps({**good, "completion": None}) + ",\n"  # line 8: null is not given
        + '"not an object",\n'  # line 9
        + json.dumps({**good, "position_s": 3}) + "\n"  # line 10: both measures
        + "]\n"
    )  # fmt: skip
    rows = _rows(_write(tmp_path, "history.json", text))
    assert [(r.line, isinstance(r, Row)) for r in rows] == [
        (2, True), (8, False), (9, False), (10, False),
    ]  # fmt: skip
    messages = [r.message for r in rows if isinstance(r, RowError)]
    assert messages == [
        "row: give exactly one of position_s and completion",
        "expected an object",
        "row: give exactly one of position_s and completion",
    ]
    assert _rows(_write(tmp_path, "empty.json", " [ ] ")) == []


@pytest.mark.parametrize("text", ['{"a": 1}', "[{}, ", '[{"profile_id": 1} {}]'])
def test_a_json_file_that_does_not_parse_cannot_be_read(tmp_path: Path, text: str) -> None:
    # A .json file that is no array is read as JSON Lines: an object alone is one row.
    path = _write(tmp_path, "history.json", text)
    if text.startswith("{"):
        assert [r.line for r in _rows(path)] == [1]
        return
    with pytest.raises(HistoryFileError):
        _rows(path)


def test_json_lines_skip_blank_lines_and_keep_going_after_a_broken_one(tmp_path: Path) -> None:
    good = {"account_email": "bob@example.org", "profile_name": "Bob", "tmdb_id": 7,
            "watched_at": WHEN, "position_s": 60}  # fmt: skip
    text = "\n".join([json.dumps(good), "", "{not json", json.dumps(good), "[1, 2]"]) + "\n"
    rows = _rows(_write(tmp_path, "history.jsonl", text))
    assert [(r.line, r.number, isinstance(r, Row)) for r in rows] == [
        (1, 1, True), (3, 2, False), (4, 3, True), (5, 4, False),
    ]  # fmt: skip
    assert isinstance(rows[1], RowError) and rows[1].message.startswith("not JSON")
    # .json holding JSON Lines reads the same.
    assert [r.line for r in _rows(_write(tmp_path, "lines.json", text))] == [1, 3, 4, 5]


BASE = {"profile_id": PROFILE, "title_id": TITLE, "watched_at": WHEN, "completion": 0.25}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"watched_at": "2024-05-01T20:15:00"}, "watched_at", "no time zone"),
        ({"watched_at": "2024-05-01"}, "watched_at", "no time zone"),
        ({"watched_at": "yesterday"}, "watched_at", "not an ISO 8601"),
        ({"watched_at": 1714594500}, "watched_at", "as a string"),
        ({"position_s": 10}, "row", "exactly one of position_s and completion"),
        ({"completion": None}, "row", "exactly one of position_s and completion"),
        ({"completion": 1.5}, "completion", "less than or equal to 1"),
        ({"completion": True}, "completion", "not true or false"),
        ({"completion": None, "position_s": -1}, "position_s", "greater than or equal to 0"),
        ({"completion": None, "position_s": 10**7}, "position_s", "less than or equal"),
        ({"completion": "nan"}, "completion", "finite"),
        ({"profile_id": "not-a-uuid"}, "profile_id", "UUID"),
        ({"title_id": "1234"}, "title_id", "UUID"),
        ({"title_id": None}, "row", "exactly one of title_id and tmdb_id"),
        ({"tmdb_id": 5}, "row", "exactly one of title_id and tmdb_id"),
        ({"profile_id": None}, "row", "give profile_id, or account_email with profile_name"),
        ({"profile_id": None, "account_email": "a@b.org"}, "row", "with profile_name"),
        ({"account_email": "a@b.org", "profile_name": "A"}, "row", "not both"),
        (
            {"profile_id": None, "account_email": "a@b.org", "profile_name": "A\x07"},
            "profile_name",
            "control characters",
        ),
        ({"title_id": None, "tmdb_id": 0}, "tmdb_id", "greater than or equal to 1"),
        ({"rating": 5}, "rating", "Extra inputs are not permitted"),
    ],
)
def test_each_rule_names_the_field_it_refuses(
    tmp_path: Path, change: dict[str, Any], field: str, message: str
) -> None:
    result = _one(tmp_path, {**BASE, **change})
    assert isinstance(result, RowError), result
    assert result.message.startswith(f"{field}: "), result.message
    assert message in result.message, result.message
    assert result.as_dict() == {
        "line": 1, "row": 1, "code": "invalid_row", "message": result.message,
    }  # fmt: skip


def test_other_suffixes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(HistoryFileError, match=r"\.csv, \.json or \.jsonl"):
        _rows(_write(tmp_path, "history.txt", "x"))
    (tmp_path / "latin1.csv").write_bytes("profile_id\n\xe9\n".encode("latin-1"))
    with pytest.raises(HistoryFileError):
        _rows(tmp_path / "latin1.csv")


def test_the_command_sends_nothing_when_strict_finds_a_bad_row(tmp_path: Path) -> None:
    # No API is reachable here: a strict import of a file with a bad row must not try one.
    path = _write(tmp_path, "history.jsonl", "\n".join([
        json.dumps(BASE), json.dumps({**BASE, "watched_at": "2024-05-01T20:15:00"}),
    ]))  # fmt: skip
    done = CliRunner().invoke(
        app, ["history", "import", str(path), "--strict", "--json", "--api", "http://127.0.0.1:9"]
    )
    assert done.exit_code == 1, done.output
    summary = json.loads(done.stdout)
    assert summary["rows"] == 2 and summary["rejected"] == 1 and summary["written"] == 0
    assert summary["errors"][0]["line"] == 2 and "nothing was sent" in summary["stopped"]


def test_the_command_exits_2_for_a_file_it_cannot_read(tmp_path: Path) -> None:
    path = _write(tmp_path, "history.csv", "profile_id,colour\n")
    done = CliRunner().invoke(app, ["history", "import", str(path)])
    assert done.exit_code == 2 and "colour" in done.output
