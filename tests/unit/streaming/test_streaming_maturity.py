"""Maturity before playback: the catalog's `certification` of an asset (absent from catalogs
that predate it, null for an asset no certified title holds) against the profile's level."""

from __future__ import annotations

import uuid

import pytest
from aiohttp import web

from streamcore.settings import Settings
from streamcore.web.service import SETTINGS_KEY
from streaming.catalog_client import CatalogAsset
from streaming.grants import Restricted, may_watch
from streaming.viewer import Viewer

ASSET = {"id": str(uuid.uuid4()), "status": "ready", "version": 1, "images": {}}


def _parsed(**fields: object) -> CatalogAsset:
    return CatalogAsset.model_validate({**ASSET, **fields})


def test_the_catalogs_certification_is_read_and_absent_means_none() -> None:
    assert _parsed(certification="PG-13").certification == "PG-13"
    assert _parsed(certification=None).certification is None
    assert _parsed().certification is None  # a catalog from before certifications
    assert _parsed(owner_account_id=str(uuid.uuid4())).certification is None


@pytest.mark.parametrize(
    ("level", "certification", "allowed"),
    [
        ("kids", "G", True),
        ("kids", "TV-Y", True),
        ("kids", "PG-13", False),
        ("kids", "R", False),
        ("kids", None, False),  # no certification counts as adult
        ("kids", "XYZ", False),  # nor does one no level lists
        ("teen", "PG", True),
        ("teen", "G", True),
        ("teen", "TV-MA", False),
        ("teen", None, False),
        ("adult", "NC-17", True),
        ("adult", None, True),
        ("unheard-of", "PG", False),  # a level these settings do not know: the least
        ("unheard-of", "G", True),
        (None, None, True),  # a token without a level: no profile restriction
    ],
)
def test_a_profile_plays_only_what_its_level_may_see(
    settings: Settings, level: str | None, certification: str | None, allowed: bool
) -> None:
    app = web.Application()
    app[SETTINGS_KEY] = settings
    viewer = Viewer(profile_id=uuid.uuid4(), account_id=uuid.uuid4(), maturity=level)
    asset = _parsed(certification=certification)
    if allowed:
        may_watch(app, viewer, asset)
    else:
        with pytest.raises(Restricted) as refused:
            may_watch(app, viewer, asset)
        assert refused.value.status == 403 and refused.value.code == "restricted"
