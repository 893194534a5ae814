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


def test_the_error_body_and_the_bearer_scheme_are_described() -> None:
    spec = document()
    error = spec["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    scheme = spec["components"]["securitySchemes"]["bearer"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "access token" in scheme["description"] and "service account" in scheme["description"]
    patch = spec["paths"]["/v1/titles/{title_id}"]["patch"]
    assert patch["security"] == [{"bearer": []}]
    assert patch["x-permission"] == "manage_catalog" and "roles: admin" in patch["description"]
    assert {"200", "400", "401", "403", "404", "409"} <= set(patch["responses"])
    body = patch["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TitleUpdate"}


def test_each_operation_says_what_it_needs_from_the_route_table() -> None:
    paths = document()["paths"]
    upload = paths["/v1/assets"]["post"]
    assert upload["x-permission"] == "upload" and upload["security"] == [{"bearer": []}]
    assert "roles: creator, admin" in upload["description"]
    # Public reads take a token optionally: a profile's maturity level filters them.
    listing = paths["/v1/titles"]["get"]
    assert listing["x-permission"] == "public" and listing["security"] == [{}, {"bearer": []}]
    assert "403" not in listing["responses"] and "401" in listing["responses"]
    assert paths["/healthz"]["get"]["security"] == []
    moved = paths["/v1/assets/{asset_id}/progress"]["put"]
    assert moved["x-permission"] == "play" and {} in moved["security"]


def test_titles_document_their_certification_apart_from_their_rating() -> None:
    schemas = document()["components"]["schemas"]
    for name in ("TitleCreate", "TitleUpdate", "TitleImport", "TitleSummary", "TitleDetail"):
        assert {"certification", "rating"} <= set(schemas[name]["properties"]), name
    asset = schemas["AssetOut"]
    assert {"certification", "owner_account_id"} <= set(asset["properties"])
    assert "owner_account_id" not in asset["required"] and "certification" in asset["required"]
