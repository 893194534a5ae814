"""What clients send about titles: request bodies and list parameters, validated by pydantic.

The same models generate the OpenAPI document (catalog_api/openapi), so the documented limits
are the enforced ones. Every text is NFC-normalised and stripped, and control characters are
refused (PostgreSQL cannot store NUL, and nobody means to send the others).
"""

from __future__ import annotations

import enum
import hashlib
import json
import unicodedata
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from streamcore.entitlements import Access

_ALLOWED_CONTROLS = frozenset("\n\t")


def _no_controls(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must not contain control characters")
    return value


def _text_block(value: str) -> str:
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    if any(unicodedata.category(c) == "Cc" and c not in _ALLOWED_CONTROLS for c in value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Line = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(_nfc),
    AfterValidator(_no_controls),
]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(_text_block)
]
# `|` separates genres in CSV imports, so it cannot be part of one.
Genre = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40, pattern=r"^[^|]+$"),
    AfterValidator(_no_controls),
]
Genres = Annotated[list[Genre], Field(max_length=20), AfterValidator(_unique)]
Year = Annotated[int, Field(ge=1870, le=2200)]
RuntimeMin = Annotated[int, Field(ge=1, le=2000, description="Running time in minutes")]
Rating = Annotated[
    float, Field(ge=0, le=10, description="0 to 10, kept to one decimal"), AfterValidator(
        lambda value: round(value, 1)
    ),
]  # fmt: skip
TmdbId = Annotated[
    int, Field(ge=1, le=2**31 - 1, description="The Movie Database id (unique per kind)")
]
# Which certifications exist is configuration (auth.maturity_levels), checked by the handlers
# (catalog_api/certifications.py); the shape is checked here.
Certification = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9+-]*$"
    ),
    Field(
        description="The content certification (G, PG, PG-13, R, NC-17, TV-Y, TV-Y7, TV-G, "
        "TV-PG, TV-14, TV-MA: the ones auth.maturity_levels lists), distinct from the review "
        "score `rating`. Null: none, which only the most permissive maturity level sees; an "
        "episode without one has its series'",
    ),
]
# Who may play the title (streamcore/entitlements.py): premium titles need a plan that
# includes them; the catalog lists them for everyone, marked `locked` for those without.
AccessField = Annotated[
    Access,
    Field(
        description="Who may play it: `free` (every plan) or `premium` (plans that include "
        "premium titles). An episode of a premium series is premium",
    ),
]
Season = Annotated[int, Field(ge=0, le=1000)]
EpisodeNumber = Annotated[int, Field(ge=0, le=100000)]


class TitleKind(enum.StrEnum):
    MOVIE = "movie"
    SERIES = "series"
    EPISODE = "episode"


class AssetRole(enum.StrEnum):
    MAIN = "main"
    TRAILER = "trailer"
    EXTRA = "extra"


class Sort(enum.StrEnum):
    """List orders; a leading '-' reverses. Missing years and ratings sort lowest."""

    TITLE = "title"
    TITLE_DESC = "-title"
    YEAR = "year"
    YEAR_DESC = "-year"
    RATING = "rating"
    RATING_DESC = "-rating"
    CREATED = "created"
    CREATED_DESC = "-created"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _episode_only(value: Any, info: ValidationInfo, *, required: bool = True) -> Any:
    """Episode fields: required (when `required`) for an episode, refused for anything else."""
    kind = info.data.get("kind")
    if kind is None:  # the kind itself was invalid: that error is enough
        return value
    if kind == TitleKind.EPISODE and value is None and required:
        raise ValueError("required for an episode")
    if kind != TitleKind.EPISODE and value is not None:
        raise ValueError("only episodes have this field")
    return value


class _Descriptive(_Body):
    title: Line
    description: Description = ""
    genres: Genres = Field(default_factory=list)
    year: Year | None = None
    runtime_min: RuntimeMin | None = None
    rating: Rating | None = None
    certification: Certification | None = None


class TitleCreate(_Descriptive):
    """A new title. An episode names its series and its season and episode numbers."""

    kind: TitleKind = TitleKind.MOVIE
    access: AccessField = Access.FREE
    tmdb_id: TmdbId | None = None
    series_id: UUID | None = Field(None, validate_default=True)
    season_number: Season | None = Field(None, validate_default=True)
    episode_number: EpisodeNumber | None = Field(None, validate_default=True)

    _check_episode = field_validator("series_id", "season_number", "episode_number")(_episode_only)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class TitleUpdate(_Body):
    """A partial update: only the fields sent change; `null` clears an optional field.

    The kind and the series of a title never change (delete and create instead).
    """

    # Not nullable (a null is refused), yet optional: no default in the schema.
    title: Line = Field(None, json_schema_extra=_no_default)  # type: ignore[assignment]
    description: Description = Field(None, json_schema_extra=_no_default)  # type: ignore[assignment]
    genres: Genres = Field(None, json_schema_extra=_no_default)  # type: ignore[arg-type]
    year: Year | None = None
    runtime_min: RuntimeMin | None = None
    rating: Rating | None = None
    certification: Certification | None = None
    access: AccessField = Field(None, json_schema_extra=_no_default)  # type: ignore[assignment]
    tmdb_id: TmdbId | None = None
    season_number: Season | None = None
    episode_number: EpisodeNumber | None = None

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in sorted(self.model_fields_set)}


class TitleImport(_Descriptive):
    """One row of a bulk import: keyed by (kind, tmdb_id), so importing twice changes nothing.

    An episode names its series by the series' tmdb_id (the series may be in the same batch).
    A row without a certification keeps the one the title has (catalog data often has none;
    one set by hand survives a re-import): PATCH clears it. Likewise a row without `access`
    keeps the title's (new titles: free).
    """

    kind: TitleKind = TitleKind.MOVIE
    access: AccessField | None = None
    tmdb_id: TmdbId
    series_tmdb_id: TmdbId | None = Field(None, validate_default=True)
    season_number: Season | None = Field(None, validate_default=True)
    episode_number: EpisodeNumber | None = Field(None, validate_default=True)

    _check_episode = field_validator("series_tmdb_id", "season_number", "episode_number")(
        _episode_only
    )


class TitleBatch(_Body):
    titles: list[TitleImport] = Field(min_length=1, max_length=1000)

    @field_validator("titles")
    @classmethod
    def _unique_keys(cls, titles: list[TitleImport]) -> list[TitleImport]:
        seen: dict[tuple[str, int], int] = {}
        for index, row in enumerate(titles):
            key = (row.kind.value, row.tmdb_id)
            if key in seen:
                raise ValueError(
                    f"titles {seen[key]} and {index} are both {row.kind} tmdb_id {row.tmdb_id}"
                )
            seen[key] = index
        return titles


class AttachAsset(_Body):
    role: AssetRole = AssetRole.MAIN
    position: int = Field(0, ge=0, le=10000, description="Order among assets of the same role")


class TitleListParams(BaseModel):
    """GET /v1/titles's query string as sent (each key once, but `genre` may repeat)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    genre: list[Genre] = Field(
        default_factory=list, max_length=5, description="Titles with every genre given"
    )
    year: Year | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
                 AfterValidator(_no_controls)] | None = Field(
        None, description="Case-insensitive search in the title (3 characters or more use the "
        "trigram index)")  # fmt: skip
    kind: TitleKind | None = Field(
        None, description="Movies and series when omitted; episodes only when asked for"
    )
    tmdb_id: TmdbId | None = None
    sort: Sort = Sort.TITLE
    limit: int = Field(20, ge=1, le=100)
    # Base64url: the bound keeps the request line under aiohttp's 8190 bytes with every other
    # parameter at its longest (the longest cursor, after a 300-character title, is ~1700).
    cursor: str | None = Field(
        None, max_length=2048, pattern=r"^[A-Za-z0-9_.-]+$",
        description="next_cursor of the previous page, as returned",
    )  # fmt: skip


class TitleQuery(BaseModel):
    """A list query in canonical form: the cache key of its page, and what a cursor binds."""

    model_config = ConfigDict(frozen=True)

    genres: tuple[str, ...] = ()
    year: int | None = None
    q: str | None = None
    kind: TitleKind | None = None
    tmdb_id: int | None = None
    sort: Sort = Sort.TITLE
    limit: int = 20
    # The certifications the caller may see (sorted), None: all. Not a parameter: the caller's
    # maturity level (caller.py); part of the cache key, so each level has its own pages.
    certifications: tuple[str, ...] | None = None
    # Where the page starts: after the row with this sort key and id (from a cursor).
    after: tuple[str | int, str] | None = None

    @classmethod
    def from_params(
        cls, params: TitleListParams, after: tuple[str | int, str] | None = None
    ) -> TitleQuery:
        return cls(
            genres=tuple(sorted(set(params.genre))),
            year=params.year,
            # ILIKE ignores case, so q's case makes no other page.
            q=" ".join(params.q.lower().split()) if params.q else None,
            kind=params.kind,
            tmdb_id=params.tmdb_id,
            sort=params.sort,
            limit=params.limit,
            after=after,
        )

    def canonical(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def cache_key(self) -> str:
        """The same page, however its query string was spelled, has the same key (v2: with
        certifications, filtered by them)."""
        return "titles:page:v2:" + hashlib.sha256(self.canonical().encode()).hexdigest()[:32]

    def filters_fingerprint(self) -> str:
        """The filters and sort a cursor belongs to (not the limit: pages may change size; not
        the certifications: a cursor is a position, and a profile switch may carry on)."""
        filters = self.model_dump(mode="json", exclude={"limit", "after", "certifications"})
        raw = json.dumps(filters, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]
