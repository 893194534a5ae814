"""Reading a catalog file (JSON or CSV) into rows for POST /v1/titles/batch, checked locally.

JSON: a list of objects, or {"titles": [...]}. CSV: a header row naming the columns (see
`catalog.COLUMNS`; any order, any subset with `title` and `tmdb_id`), genres separated by `|`,
an empty cell for a missing value.

`ImportRow` mirrors the API's `catalog_api.titles.models.TitleImport` (the CLI is a client of
the API and does not import it; tests/unit/catalog_api/test_cli_rows.py keeps the two equal),
so a bad row is named (row number and field) before anything is sent.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from streamcore.web.validation import field_errors


def _no_controls(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


def _text_block(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value


_Genre = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[^|]+$"),
    AfterValidator(_no_controls),
]
_TmdbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
# Its shape only: which certifications exist is the server's configuration (an unknown one
# fails its row there, named like any other row error). Catalog data without any (MovieLens,
# say) leaves it out: imported titles then keep whatever certification they have.
_Certification = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9+-]*$"
    ),
]


class ImportRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
        AfterValidator(_no_controls),
    ]
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(_text_block)
    ] = ""
    genres: Annotated[list[_Genre], Field(max_length=20)] = Field(default_factory=list)
    year: Annotated[int, Field(ge=1870, le=2200)] | None = None
    runtime_min: Annotated[int, Field(ge=1, le=2000)] | None = None
    rating: Annotated[float, Field(ge=0, le=10)] | None = None
    certification: _Certification | None = None
    # Left out: a new title is free, an existing one keeps its access level.
    access: Literal["free", "premium"] | None = None
    kind: Literal["movie", "series", "episode"] = "movie"
    tmdb_id: _TmdbId
    series_tmdb_id: _TmdbId | None = Field(None, validate_default=True)
    season_number: Annotated[int, Field(ge=0, le=1000)] | None = Field(None, validate_default=True)
    episode_number: Annotated[int, Field(ge=0, le=100000)] | None = Field(
        None, validate_default=True
    )

    @field_validator("series_tmdb_id", "season_number", "episode_number")
    @classmethod
    def _episode_only(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if kind == "episode" and value is None:
            raise ValueError("required for an episode")
        if kind not in (None, "episode") and value is not None:
            raise ValueError("only episodes have this field")
        return value


@dataclass(frozen=True)
class Row:
    number: int  # 1-based, in file order (a CSV's header is not a row)
    payload: dict[str, Any]


@dataclass(frozen=True)
class RowError:
    row: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "message": self.message}


class CatalogFileError(Exception):
    """The file as a whole cannot be read (format, encoding, shape)."""


def _csv_records(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise CatalogFileError(f"{path.name}: no header row")
        records = []
        for cells in reader:
            if None in cells:
                raise CatalogFileError(
                    f"{path.name}: row {reader.line_num - 1} has more cells than the header"
                )
            record: dict[str, Any] = {k: v for k, v in cells.items() if v not in ("", None)}
            if "genres" in record:
                record["genres"] = [g for g in record["genres"].split("|") if g.strip()]
            records.append(record)
        return records


def _json_records(path: Path) -> list[Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("titles"), list):
        data = data["titles"]
    if not isinstance(data, list):
        raise CatalogFileError(f'{path.name}: expected a list of titles or {{"titles": [...]}}')
    return data


def read(path: Path) -> tuple[list[Row], list[RowError]]:
    """The file's valid rows (as the API takes them) and its invalid ones, by row number."""
    try:
        records = _csv_records(path) if path.suffix.lower() == ".csv" else _json_records(path)
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise CatalogFileError(f"{path.name}: {exc}") from None
    rows, errors = [], []
    for number, record in enumerate(records, start=1):
        try:
            row = ImportRow.model_validate(record)
        except ValidationError as exc:
            # Named as the API names them, so a row's problems read the same either way.
            problems = "; ".join(f"{d['field']}: {d['message']}" for d in field_errors(exc, "row"))
            errors.append(RowError(number, problems))
            continue
        rows.append(Row(number, row.model_dump(mode="json", exclude_none=True)))
    return rows, errors
