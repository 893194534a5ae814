"""One 400 for invalid input: pydantic's errors as a message and per-field details."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from streamcore.web.service import InvalidRequest
from streamcore.web.validation import MAX_DETAILS, InvalidCursor, from_validation_error, invalid


class Row(BaseModel):
    year: int = Field(ge=1870)
    title: str

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


class Batch(BaseModel):
    rows: list[Row]


def _error(data: object) -> InvalidRequest:
    with pytest.raises(ValidationError) as caught:
        Batch.model_validate(data)
    return from_validation_error(caught.value)


def test_every_bad_field_is_named_with_a_dotted_path() -> None:
    error = _error({"rows": [{"year": 2000, "title": "ok"}, {"year": 1, "title": " "}]})
    assert (error.status, error.code) == (400, "invalid_request")
    assert error.details == [
        {"field": "rows.1.year", "message": "Input should be greater than or equal to 1870"},
        {"field": "rows.1.title", "message": "must not be blank"},
    ]
    assert error.message == (
        "rows.1.year: Input should be greater than or equal to 1870; "
        "rows.1.title: must not be blank"
    )


def test_errors_about_the_whole_input_name_its_root() -> None:
    with pytest.raises(ValidationError) as caught:
        Batch.model_validate_json(b"{not json")
    error = from_validation_error(caught.value, "body")
    assert [d["field"] for d in error.details] == ["body"]
    assert error.message.startswith("body: Invalid JSON")


def test_many_errors_are_bounded_and_counted() -> None:
    error = _error({"rows": [{"year": 1, "title": "x"}] * (MAX_DETAILS + 10)})
    assert len(error.details) == MAX_DETAILS
    assert error.message.endswith(f"(and {MAX_DETAILS + 10 - 3} more)")


def test_a_field_found_invalid_by_hand_has_the_same_shape() -> None:
    error = invalid("cursor", "not a cursor returned by this API", error=InvalidCursor)
    assert (error.code, error.message) == (
        "invalid_cursor",
        "cursor: not a cursor returned by this API",
    )
    assert error.details == [{"field": "cursor", "message": "not a cursor returned by this API"}]
