"""Certifications and maturity in the catalog: spelling, strictness, who is filtered, and
what a filtered document keeps."""

from __future__ import annotations

import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from catalog_api import certifications
from catalog_api.caller import actor, may_see, visible_certifications
from catalog_api.titles.visibility import visible_document
from streamcore.auth.principal import PRINCIPAL_KEY, Principal
from streamcore.auth.roles import Role
from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY, InvalidRequest

ACCOUNT = uuid.uuid4()


def request_as(settings: Settings, caller: Principal | None) -> web.Request:
    app = web.Application()
    app[SETTINGS_KEY] = settings
    request = make_mocked_request("GET", "/v1/titles", app=app)
    if caller is not None:
        request[PRINCIPAL_KEY] = caller
    return request


def test_certifications_are_spelled_as_configured_and_unknown_ones_refused(
    settings: Settings,
) -> None:
    auth = settings.auth
    assert certifications.checked(auth, " pg-13", "certification") == "PG-13"
    assert certifications.checked(auth, "tv-ma", "certification") == "TV-MA"
    assert certifications.checked(auth, None, "certification") is None
    with pytest.raises(InvalidRequest) as refused:
        certifications.checked(auth, "X", "titles.2.certification")
    assert str(refused.value).startswith("titles.2.certification: unknown certification 'X'")
    assert "G, TV-Y" in str(refused.value)


@pytest.mark.parametrize(
    ("linked", "strictest"),
    [
        ([], None),
        (["G"], "G"),
        (["G", "PG-13", "TV-Y"], "PG-13"),
        (["R", "NC-17"], "NC-17"),  # one level: the later in its list
        (["TV-MA", "PG"], "TV-MA"),
        (["G", None], None),  # none counts as the strictest of all
        (["G", "unheard-of"], None),
    ],
)
def test_an_assets_certification_is_its_strictest_titles(
    settings: Settings, linked: list[str | None], strictest: str | None
) -> None:
    assert certifications.strictest(settings.auth, linked) == strictest


def test_only_a_profiles_maturity_filters(settings: Settings) -> None:
    kids = Principal(role=Role.VIEWER, account_id=ACCOUNT, maturity="kids")
    allowed = visible_certifications(request_as(settings, kids))
    assert allowed == frozenset({"G", "TV-Y", "TV-Y7", "TV-G"})
    teen = Principal(role=Role.CREATOR, account_id=ACCOUNT, maturity="teen")
    assert "PG-13" in (visible_certifications(request_as(settings, teen)) or ())
    unfiltered = [
        None,  # anonymous
        Principal(role=Role.VIEWER, account_id=ACCOUNT),  # no profile
        Principal(role=Role.VIEWER, account_id=ACCOUNT, maturity="adult"),
        Principal(role=Role.ADMIN, account_id=ACCOUNT, maturity="kids"),
        Principal(role=Role.ADMIN, service="ci"),
    ]
    for caller in unfiltered:
        assert visible_certifications(request_as(settings, caller)) is None, caller
    # A level the settings no longer know is never wider than the narrowest.
    renamed = Principal(role=Role.VIEWER, account_id=ACCOUNT, maturity="toddlers")
    assert visible_certifications(request_as(settings, renamed)) == allowed


def test_read_your_writes_names_callers_never_anonymous_ones(settings: Settings) -> None:
    person = Principal(role=Role.ADMIN, account_id=ACCOUNT)
    assert actor(request_as(settings, person)) == f"account:{ACCOUNT}"
    assert actor(request_as(settings, Principal(role=Role.ADMIN, service="ci"))) == "service:ci"
    assert actor(request_as(settings, None)) is None


def _title(certification: str | None, **more: object) -> dict[str, object]:
    return {"id": str(uuid.uuid4()), "certification": certification, **more}


def test_a_filtered_document_hides_the_title_or_its_episodes() -> None:
    kids = frozenset({"G", "TV-Y"})
    assert may_see(None, None) and may_see(kids, "G")
    assert not may_see(kids, None) and not may_see(kids, "R")
    assert visible_document(_title("R"), kids) is None
    assert visible_document(_title(None), kids) is None
    adult = _title("R")
    assert visible_document(adult, None) is adult
    episodes = [_title("TV-Y"), _title(None), _title("TV-MA")]
    series = _title("TV-Y", episodes=episodes)
    shown = visible_document(series, kids)
    assert shown is not None
    # An episode without a certification has its series'.
    assert [e["id"] for e in shown["episodes"]] == [episodes[0]["id"], episodes[1]["id"]]
    assert series["episodes"] == episodes  # the cached document is not changed
    episode = _title(None, series={"id": "s", "title": "S", "certification": "TV-Y"})
    assert visible_document(episode, kids) is episode
    orphan = _title(None, series={"id": "s", "title": "S", "certification": None})
    assert visible_document(orphan, kids) is None
