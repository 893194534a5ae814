"""The OpenAPI document is valid OpenAPI 3.1 and describes the titles API fully."""

from __future__ import annotations

from openapi_spec_validator import validate

from catalog_api.openapi import document


def test_the_document_is_valid_openapi_3_1() -> None:
    spec = document()
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_list_parameters_come_from_the_model_that_validates_them() -> None:
    parameters = {p["name"]: p for p in document()["paths"]["/v1/titles"]["get"]["parameters"]}
    assert set(parameters) == {"genre", "year", "q", "kind", "tmdb_id", "sort", "limit", "cursor"}
    assert parameters["limit"]["schema"] == {"default": 20, "maximum": 100, "minimum": 1,
                                             "type": "integer"}  # fmt: skip
    assert parameters["genre"]["schema"]["type"] == "array"
    assert parameters["sort"]["schema"] == {"$ref": "#/components/schemas/Sort", "default": "title"}


def test_the_error_body_and_the_api_key_are_described() -> None:
    spec = document()
    error = spec["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    patch = spec["paths"]["/v1/titles/{title_id}"]["patch"]
    assert patch["security"] == [{"apiKey": []}]
    assert {"200", "400", "401", "404", "409"} <= set(patch["responses"])
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TitleUpdate"}
