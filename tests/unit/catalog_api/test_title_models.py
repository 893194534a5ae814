"""Title request models: limits, episode rules, and list queries in canonical form."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from catalog_api.titles.models import (
    TitleBatch,
    TitleCreate,
    TitleListParams,
    TitleQuery,
    TitleUpdate,
)


def error_locations(model: Any, data: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]


def test_text_is_normalised_and_genres_deduplicated() -> None:
    title = TitleCreate.model_validate(
        {"title": "  Cafe\u0301 ", "genres": [" Drama", "Drama", "Comedy"], "rating": 7.25}
    )
    assert title.title == "Café" and len(title.title) == 4
    assert title.genres == ["Drama", "Comedy"]
    assert title.rating == 7.2


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"title": ""}, ["title"]),
        ({"title": "a\x00"}, ["title"]),
        ({"title": "a", "description": "tab\tand\nnewline are fine, bell\x07 is not"},
         ["description"]),
        ({"title": "a", "genres": ["x" * 41]}, ["genres.0"]),
        ({"title": "a", "genres": [str(i) for i in range(21)]}, ["genres"]),
        ({"title": "a", "year": 1869}, ["year"]),
        ({"title": "a", "kind": "episode"}, ["series_id", "season_number", "episode_number"]),
        ({"title": "a", "kind": "series", "episode_number": 3}, ["episode_number"]),
        ({"title": "a", "tmdb_id": 2**31}, ["tmdb_id"]),
        ({"title": "a", "views": 3}, ["views"]),
    ],
)  # fmt: skip
def test_invalid_titles_name_their_fields(data: dict[str, Any], where: list[str]) -> None:
    assert error_locations(TitleCreate, data) == where


def test_an_episode_needs_its_series_and_numbers() -> None:
    episode = TitleCreate.model_validate(
        {"title": "Pilot", "kind": "episode", "series_id": str(uuid.uuid4()),
         "season_number": 1, "episode_number": 0}
    )  # fmt: skip
    assert episode.season_number == 1


def test_updates_are_partial_and_null_clears_only_optional_fields() -> None:
    assert TitleUpdate.model_validate({"year": None, "rating": 8}).changes() == {
        "rating": 8.0, "year": None
    }  # fmt: skip
    assert TitleUpdate.model_validate({}).changes() == {}
    assert error_locations(TitleUpdate, {"title": None}) == ["title"]
    assert error_locations(TitleUpdate, {"genres": None}) == ["genres"]
    assert error_locations(TitleUpdate, {"kind": "series"}) == ["kind"]


def test_a_batch_refuses_two_rows_with_one_key() -> None:
    rows = [{"title": "a", "tmdb_id": 7}, {"title": "b", "tmdb_id": 7, "kind": "series"}]
    assert len(TitleBatch.model_validate({"titles": rows}).titles) == 2
    assert error_locations(TitleBatch, {"titles": [rows[0], rows[0]]}) == ["titles"]
    assert error_locations(TitleBatch, {"titles": []}) == ["titles"]
    episode = {"title": "e", "tmdb_id": 8, "kind": "episode", "season_number": 1,
               "episode_number": 1}  # fmt: skip
    assert error_locations(TitleBatch, {"titles": [episode]}) == ["titles.0.series_tmdb_id"]


def test_the_same_page_has_the_same_cache_key_however_it_is_asked() -> None:
    one = TitleQuery.from_params(
        TitleListParams(genre=["Drama", "Comedy", "Drama"], q="  The  HARBOR ", year=1999)
    )
    two = TitleQuery.from_params(TitleListParams(genre=["Comedy", "Drama"], q="the harbor",
                                                 year=1999))  # fmt: skip
    assert one == two and one.cache_key() == two.cache_key()
    assert one.cache_key().startswith("titles:page:v2:")
    by_year = TitleQuery.from_params(TitleListParams(genre=["Drama"], sort="-year"))
    by_title = TitleQuery.from_params(TitleListParams(genre=["Drama"]))
    assert by_year.cache_key() != by_title.cache_key()
    later = one.model_copy(update={"after": ("the harbor", str(uuid.uuid4())), "limit": 50})
    assert later.cache_key() != one.cache_key()
    assert later.filters_fingerprint() == one.filters_fingerprint()
    # Each maturity level has its own pages; a cursor (a position) serves every level.
    kids = one.model_copy(update={"certifications": ("G", "TV-Y")})
    assert kids.cache_key() != one.cache_key()
    assert kids.filters_fingerprint() == one.filters_fingerprint()
    with pytest.raises(ValidationError):
        one.year = 2000  # type: ignore[misc]


@pytest.mark.parametrize(
    ("params", "where"),
    [({"limit": "0"}, "limit"), ({"sort": "views"}, "sort"), ({"page": "2"}, "page"),
     ({"cursor": "no spaces allowed"}, "cursor"), ({"q": " "}, "q")],
)  # fmt: skip
def test_list_parameters_are_checked(params: dict[str, str], where: str) -> None:
    assert error_locations(TitleListParams, params) == [where]
