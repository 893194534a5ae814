"""List cursors: opaque, signed, bound to their query, and bounded in size."""

from __future__ import annotations

import base64
import uuid

import pytest

from catalog_api.titles import cursor
from catalog_api.titles.models import Sort, TitleListParams, TitleQuery
from streamcore.settings import Settings


def query(**params: object) -> TitleQuery:
    return TitleQuery.from_params(TitleListParams.model_validate(params))


def test_a_cursor_round_trips(settings: Settings) -> None:
    q = query(genre=["Drama"], sort="-rating")
    position = ["7.5", str(uuid.uuid4())]
    token = cursor.encode(settings, q, position)
    assert cursor.decode(settings, token, q) == tuple(position)
    # Another page size is the same list: the cursor still applies.
    assert cursor.decode(settings, token, query(genre=["Drama"], sort="-rating", limit=5))


@pytest.mark.parametrize(
    "other",
    [{"genre": ["Comedy"], "sort": "-rating"}, {"genre": ["Drama"], "sort": "rating"}, {}],
)
def test_a_cursor_of_another_query_is_refused(settings: Settings, other: dict) -> None:
    drama = query(genre=["Drama"], sort="-rating")
    token = cursor.encode(settings, drama, ["7.5", str(uuid.uuid4())])
    with pytest.raises(cursor.InvalidCursor, match="other filters"):
        cursor.decode(settings, token, query(**other))


def test_forged_or_damaged_cursors_are_refused(settings: Settings) -> None:
    q = query()
    token = cursor.encode(settings, q, ["alpha", str(uuid.uuid4())])
    payload, mac = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"alpha", b"omega")
    forged = base64.urlsafe_b64encode(raw).decode().rstrip("=") + "." + mac
    for bad in (forged, token[:-1], "garbage", "", "é.é", payload, f"{payload}.{mac}x"):
        with pytest.raises(cursor.InvalidCursor) as caught:
            cursor.decode(settings, bad, q)
        assert caught.value.code == "invalid_cursor" and caught.value.status == 400


def test_cursors_outlive_a_key_rotation_while_the_old_key_is_listed(settings: Settings) -> None:
    q = query(sort="year")
    token = cursor.encode(settings, q, [1999, str(uuid.uuid4())])
    rotated = settings.model_copy(
        update={"origin": settings.origin.model_copy(update={"active_key_id": "k1"})}
    )
    assert cursor.decode(rotated, token, q)[0] == 1999
    retired = settings.model_copy(
        update={"origin": settings.origin.model_copy(update={"signing_keys": {"k1": "s1"},
                                                             "active_key_id": "k1"})}
    )  # fmt: skip
    with pytest.raises(cursor.InvalidCursor):
        cursor.decode(retired, token, q)


def test_a_value_of_the_wrong_type_for_the_sort_is_refused(settings: Settings) -> None:
    token = cursor.encode(settings, query(sort="year"), ["1999", str(uuid.uuid4())])
    with pytest.raises(cursor.InvalidCursor):
        cursor.decode(settings, token, query(sort="year"))


def test_the_longest_cursor_fits_the_documented_limit(settings: Settings) -> None:
    longest = "\U0001f3ac" * 300  # a 300-character title of 4-byte characters
    token = cursor.encode(settings, query(sort=Sort.TITLE), [longest, str(uuid.uuid4())])
    assert len(token) < 2048
    TitleListParams(cursor=token)  # within the documented pattern and length
