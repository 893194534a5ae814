"""Profiles' picked genres; any profile by id for admins and services; resolving (email, profile
name) pairs for imports, creating what is missing (accounts without a password, which cannot
sign in until an admin sets one). Against the stack, through the gateway."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from streamcore.settings import Settings
from tests.integration.auth.auth_http import (
    audit_kinds,
    login,
    new_email,
    signed_in,
    wait_for,
)

pytestmark = pytest.mark.stack

RESOLVE = "/v1/admin/profiles/resolve"


def _resolve(
    http: httpx.Client, admin: dict[str, str], items: list[tuple[str, str]], create: bool = False
) -> list[dict[str, Any]]:
    body = {
        "items": [{"account_email": e, "profile_name": n} for e, n in items],
        "create_missing": create,
    }
    response = http.post(RESOLVE, headers=admin, json=body)
    assert response.status_code == 200, response.text
    answers: list[dict[str, Any]] = response.json()["items"]
    assert len(answers) == len(items)
    return answers


def _codes(answers: list[dict[str, Any]]) -> list[str | None]:
    return [a["error"]["code"] if "error" in a else None for a in answers]


# -- genres -----------------------------------------------------------------------------------


def test_profiles_keep_the_genres_picked_trimmed_without_duplicates(http: httpx.Client) -> None:
    person = signed_in(http)
    first = http.get("/v1/profiles", headers=person.headers).json()["items"]
    assert [p["genres"] for p in first] == [[]]  # sign-up's first profile picked none
    created = http.post(
        "/v1/profiles",
        headers=person.headers,
        json={"name": "Sam", "maturity": "teen", "genres": [" Drama ", "Sci-Fi", "Drama", "Café"]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["genres"] == ["Drama", "Sci-Fi", "Café"]
    profile_id = created.json()["id"]
    patched = http.patch(
        f"/v1/profiles/{profile_id}", headers=person.headers, json={"genres": ["Comedy"]}
    )
    assert patched.status_code == 200 and patched.json()["genres"] == ["Comedy"]
    # Other changes leave them as they are; an empty list clears them.
    renamed = http.patch(f"/v1/profiles/{profile_id}", headers=person.headers, json={"name": "S"})
    assert renamed.json()["genres"] == ["Comedy"]
    listed = http.get("/v1/profiles", headers=person.headers).json()["items"]
    assert [p["genres"] for p in listed] == [[], ["Comedy"]]
    cleared = http.patch(f"/v1/profiles/{profile_id}", headers=person.headers, json={"genres": []})
    assert cleared.json()["genres"] == []


@pytest.mark.parametrize(
    "genres",
    [
        [f"g{i}" for i in range(21)],  # more than 20
        ["x" * 41],  # longer than 40
        ["   "],  # blank once trimmed
        ["Drama\u0007"],  # not printable
        ["Drama", 7],  # not a string
        None,  # null: leave it out instead
    ],
)
def test_genres_that_break_the_rules_are_a_400(http: httpx.Client, genres: Any) -> None:
    person = signed_in(http)
    body = {"name": "Sam", "maturity": "teen", "genres": genres}
    created = http.post("/v1/profiles", headers=person.headers, json=body)
    assert created.status_code == 400, created.text
    error = created.json()["error"]
    assert error["code"] == "invalid_request" and error["details"][0]["field"].startswith("genres")
    profile_id = person.tokens["profile_id"]
    patched = http.patch(
        f"/v1/profiles/{profile_id}", headers=person.headers, json={"genres": genres}
    )
    assert patched.status_code == 400, patched.text


# -- one profile by id ----------------------------------------------------------------------


def test_admins_and_services_read_any_profile_with_its_account(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    person = signed_in(http)
    profile = http.post(
        "/v1/profiles",
        headers=person.headers,
        json={"name": "Kid", "maturity": "kids", "language": "pt-BR", "genres": ["Animation"]},
    ).json()
    response = http.get(f"/v1/admin/profiles/{profile['id']}", headers=admin)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.json() == {
        "id": profile["id"], "account_id": person.account_id, "name": "Kid",
        "maturity": "kids", "language": "pt-BR", "genres": ["Animation"],
        "created_at": profile["created_at"],
    }  # fmt: skip
    unknown = http.get(f"/v1/admin/profiles/{uuid.uuid4()}", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    assert http.get("/v1/admin/profiles/not-an-id", headers=admin).status_code == 404
    # Its own profile is still not a viewer's to read this way; nor anyone's anonymously.
    mine = http.get(f"/v1/admin/profiles/{profile['id']}", headers=person.headers)
    assert mine.status_code == 403 and mine.json()["error"]["code"] == "forbidden"
    assert http.get(f"/v1/admin/profiles/{profile['id']}").status_code == 401


# -- resolving --------------------------------------------------------------------------------


def test_resolving_finds_accounts_as_sign_in_spells_them_and_names_exactly(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    email = new_email("resolve")
    person = signed_in(http, email=email, display_name="Ann")
    kid = http.post(
        "/v1/profiles", headers=person.headers, json={"name": "Kids", "maturity": "kids"}
    ).json()
    shouting = f"  {email.upper()} "
    answers = _resolve(http, admin, [
        (shouting, "Ann"), (email, " Kids "), (email, "kids"), (new_email(), "Ann"),
        ("not an email", "Ann"), (email, "\u0007"), (email, "Ann"),
    ])  # fmt: skip
    assert _codes(answers) == [
        None, None, "unknown_profile", "unknown_account", "invalid_email",
        "invalid_profile_name", None,
    ]  # fmt: skip
    assert answers[0] == {
        "account_email": shouting, "profile_name": "Ann", "account_id": person.account_id,
        "profile_id": person.tokens["profile_id"], "created_account": False,
        "created_profile": False,
    }  # fmt: skip
    assert answers[1]["profile_id"] == kid["id"]
    assert answers[6]["profile_id"] == person.tokens["profile_id"]
    assert set(answers[3]) == {"account_email", "profile_name", "error"}


def test_create_missing_makes_password_less_accounts_and_profiles_once(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    email = new_email("imported")
    items = [(email, "Dad"), (email, "Kids"), (email.upper(), "Dad")]
    first = _resolve(http, admin, items, create=True)
    assert _codes(first) == [None, None, None]
    assert [(a["created_account"], a["created_profile"]) for a in first] == [
        (True, True), (False, True), (False, False),
    ]  # fmt: skip
    account_id = first[0]["account_id"]
    assert {a["account_id"] for a in first} == {account_id}
    assert first[2]["profile_id"] == first[0]["profile_id"] != first[1]["profile_id"]
    again = _resolve(http, admin, items, create=True)
    assert [(a["account_id"], a["profile_id"]) for a in again] == [
        (a["account_id"], a["profile_id"]) for a in first
    ]
    assert not any(a["created_account"] or a["created_profile"] for a in again)
    without = _resolve(http, admin, items)
    assert [a["profile_id"] for a in without] == [a["profile_id"] for a in first]

    listed = http.get("/v1/admin/accounts", headers=admin, params={"q": email}).json()["items"]
    assert len(listed) == 1 and listed[0]["role"] == "viewer"
    assert listed[0]["display_name"] == email.split("@")[0]
    profiles = {p["name"]: p for p in listed[0]["profiles"]}
    assert set(profiles) == {"Dad", "Kids"}  # no extra profile named after the account
    # A new profile's defaults: sign-up's (the most permissive level, English, no genres).
    assert {(p["maturity"], p["language"], tuple(p["genres"])) for p in profiles.values()} == {
        ("adult", "en", ())
    }
    wait_for(
        lambda: {"account_created", "profile_created"} <= set(audit_kinds(http, admin, account_id)),
        what="the creations in the audit log",
    )
    events = http.get(
        "/v1/admin/audit", headers=admin, params={"account": account_id, "limit": 100}
    ).json()["items"]
    assert sorted(e["kind"] for e in events) == [
        "account_created", "profile_created", "profile_created",
    ]  # fmt: skip
    created = next(e for e in events if e["kind"] == "account_created")
    assert created["actor"] == "service:ci" and created["detail"]["password_set"] is False


def test_an_account_without_a_password_cannot_sign_in_until_an_admin_sets_one(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    email = new_email("nopassword")
    account_id = _resolve(http, admin, [(email, "Me")], create=True)[0]["account_id"]
    refused = login(http, email, "whatever they type")
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "password_not_set"
    weak = http.patch(f"/v1/admin/accounts/{account_id}", headers=admin, json={"password": "short"})
    assert weak.status_code == 400 and weak.json()["error"]["code"] == "password_too_short"
    set_ = http.patch(
        f"/v1/admin/accounts/{account_id}", headers=admin, json={"password": "a chosen passphrase"}
    )
    assert set_.status_code == 200, set_.text
    signed = login(http, email, "a chosen passphrase")
    assert signed.status_code == 200, signed.text
    assert signed.json()["profile_id"] == _resolve(http, admin, [(email, "Me")])[0]["profile_id"]
    # Setting it again (a reset) signs the devices out: the old refresh token is refused.
    again = http.patch(
        f"/v1/admin/accounts/{account_id}", headers=admin, json={"password": "another passphrase"}
    )
    assert again.status_code == 200
    refresh = http.post("/v1/auth/refresh", json={"refresh_token": signed.json()["refresh_token"]})
    assert refresh.status_code == 401, refresh.text
    assert login(http, email, "a chosen passphrase").status_code == 401
    assert login(http, email, "another passphrase").status_code == 200
    wait_for(
        lambda: {"password_set", "login_failed"} <= set(audit_kinds(http, admin, account_id)),
        what="password_set",
    )


def test_past_max_profiles_only_the_items_over_it_fail(
    stack: Settings, http: httpx.Client, admin: dict[str, str]
) -> None:
    email = new_email("full")
    limit = stack.auth.max_profiles
    names = [f"P{i}" for i in range(limit + 2)]
    other = new_email("other")
    answers = _resolve(http, admin, [*((email, n) for n in names), (other, "Solo")], create=True)
    assert _codes(answers) == [None] * limit + ["too_many_profiles"] * 2 + [None]
    assert answers[-1]["created_account"] is True
    # Still over it the second time, and nothing else changes.
    again = _resolve(http, admin, [(email, names[-1]), (email, names[0])], create=True)
    assert _codes(again) == ["too_many_profiles", None] and not again[1]["created_profile"]


def test_two_profiles_of_one_name_are_ambiguous(http: httpx.Client, admin: dict[str, str]) -> None:
    person = signed_in(http)
    for _ in range(2):
        twin = http.post(
            "/v1/profiles", headers=person.headers, json={"name": "Twin", "maturity": "teen"}
        )
        assert twin.status_code == 201
    for create in (False, True):
        answers = _resolve(http, admin, [(person.email, "Twin")], create=create)
        assert _codes(answers) == ["ambiguous_profile"]


def test_resolving_the_same_new_items_at_once_creates_them_once(
    http: httpx.Client, admin: dict[str, str]
) -> None:
    emails = [new_email("race") for _ in range(5)]
    items = [(e, n) for e in emails for n in ("A", "B")]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _resolve(http, admin, items, create=True), range(4)))
    ids = {tuple((a["account_id"], a["profile_id"]) for a in answers) for answers in results}
    assert len(ids) == 1  # every call saw the same accounts and profiles
    created = [sum(a["created_profile"] for a in answers) for answers in results]
    assert sum(created) == len(items)  # each profile created by exactly one of them
    accounts = [sum(a["created_account"] for a in answers) for answers in results]
    assert sum(accounts) == len(emails)


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {"items": [{"account_email": "a@example.org", "profile_name": "A"}] * 501},
        {"items": [{"account_email": "a@example.org"}]},
        {"items": [{"account_email": "a@example.org", "profile_name": "A", "x": 1}]},
        {"items": [{"account_email": "a@example.org", "profile_name": "A"}], "create": True},
    ],
)
def test_a_malformed_request_is_a_400(
    http: httpx.Client, admin: dict[str, str], body: dict[str, Any]
) -> None:
    response = http.post(RESOLVE, headers=admin, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "invalid_request"


def test_viewers_may_not_resolve(http: httpx.Client) -> None:
    person = signed_in(http)
    body = {"items": [{"account_email": person.email, "profile_name": "Tester"}]}
    assert http.post(RESOLVE, headers=person.headers, json=body).status_code == 403
    assert http.post(RESOLVE, json=body).status_code == 401
