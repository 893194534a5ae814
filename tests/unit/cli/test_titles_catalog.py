"""`streamcore titles generate` and the import file reader, against the API's own models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from catalog_api.titles.models import TitleBatch, TitleImport
from cli.titles import catalog, rows


def _bare(schema: dict[str, Any]) -> Any:
    """A JSON schema without titles, descriptions and names: only what it accepts."""
    if isinstance(schema, dict):
        return {k: _bare(v) for k, v in schema.items() if k not in ("title", "description")}
    if isinstance(schema, list):
        return [_bare(v) for v in schema]
    return schema


def test_the_cli_checks_rows_exactly_as_the_api_does() -> None:
    cli, api = rows.ImportRow.model_json_schema(), TitleImport.model_json_schema()
    # The API names its enums (TitleKind, Access) in $defs; the CLI spells them inline.
    kind, access = api["$defs"]["TitleKind"], api["$defs"]["Access"]
    api_properties = {
        **api["properties"],
        "kind": {**kind, "default": "movie"},
        "access": {**api["properties"]["access"], "anyOf": [access, {"type": "null"}]},
    }
    assert _bare(cli["properties"]) == _bare(api_properties)
    assert cli["required"] == api["required"]


def test_the_generator_is_deterministic_and_valid() -> None:
    first = catalog.generate(500, seed=3, first_tmdb_id=10)
    assert first == catalog.generate(500, seed=3, first_tmdb_id=10)
    assert first != catalog.generate(500, seed=4, first_tmdb_id=10)
    assert len(first) == 500
    keys = [(row["kind"], row["tmdb_id"]) for row in first]
    assert len(set(keys)) == 500 and min(row["tmdb_id"] for row in first) > 10
    kinds = {row["kind"] for row in first}
    assert kinds == {"movie", "series", "episode"}
    series = {row["tmdb_id"] for row in first if row["kind"] == "series"}
    assert all(row["series_tmdb_id"] in series for row in first if row["kind"] == "episode")
    TitleBatch.model_validate({"titles": first[:1000]})


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_generated_files_read_back_as_the_same_rows(tmp_path: Path, suffix: str) -> None:
    generated = catalog.generate(120, seed=5)
    path = tmp_path / f"catalog{suffix}"
    catalog.write(generated, path)
    valid, invalid = rows.read(path)
    assert invalid == []
    assert [r.number for r in valid] == list(range(1, 121))
    expected = [{k: v for k, v in row.items() if v is not None} for row in generated]
    assert [r.payload for r in valid] == [
        {**row, "description": row["description"]} for row in expected
    ]


def test_csv_cells_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "titles.csv"
    path.write_text(
        "\ufefftitle,tmdb_id,genres,rating,kind,series_tmdb_id,season_number,episode_number\n"
        "Plain,1,,,,,,\n"
        "Genres,2, Drama | Comedy ||,7.5,,,,\n"
        ",3,,eleven,,,,\n"
        "Ep,4,,,episode,1,1,\n",
        encoding="utf-8",
    )
    valid, invalid = rows.read(path)
    assert [r.payload["title"] for r in valid] == ["Plain", "Genres"]
    assert valid[0].payload == {"title": "Plain", "tmdb_id": 1, "description": "", "genres": [],
                                "kind": "movie"}  # fmt: skip
    assert valid[1].payload["genres"] == ["Drama", "Comedy"]
    assert [e.row for e in invalid] == [3, 4]
    assert invalid[0].message.startswith("title: ") and "rating: " in invalid[0].message
    assert invalid[1].message.startswith("episode_number: required for an episode")


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"movies": []}', "expected a list"), ("[1, 2", "Expecting"), ("", "Expecting")],
)
def test_unreadable_json_files_are_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(rows.CatalogFileError, match=message):
        rows.read(path)


def test_json_rows_may_be_a_list_or_wrapped(tmp_path: Path) -> None:
    path = tmp_path / "titles.json"
    path.write_text(json.dumps([{"title": "A", "tmdb_id": 1}, "not an object"]))
    valid, invalid = rows.read(path)
    assert len(valid) == 1 and invalid[0].row == 2 and invalid[0].message.startswith("row: ")


def test_csv_certifications_are_read_and_their_shape_checked(tmp_path: Path) -> None:
    path = tmp_path / "certified.csv"
    path.write_text(
        "title,tmdb_id,rating,certification\n"
        "Rated,1,7.5,pg-13\n"  # the API spells it as configured (and refuses an unknown one)
        "Unrated,2,6,\n"  # none: MovieLens-like data; the title keeps whatever it has
        "Spaced,3,,PG 13\n",
        encoding="utf-8",
    )
    valid, invalid = rows.read(path)
    assert valid[0].payload["certification"] == "pg-13" and valid[0].payload["rating"] == 7.5
    assert "certification" not in valid[1].payload
    assert [e.row for e in invalid] == [3] and invalid[0].message.startswith("certification:")
