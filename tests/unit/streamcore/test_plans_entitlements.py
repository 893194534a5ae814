"""Plans (configs/plans.yaml, streamcore/plans.py) and the entitlement check
(streamcore/entitlements.py): what a plan grants, premium titles, and the renditions a plan
may be given."""

from __future__ import annotations

from pathlib import Path

import pytest

import configs
from streamcore import entitlements
from streamcore.plans import PlansError, load_plans
from streamcore.settings import Settings

RENDITIONS = [{"name": n, "height": h} for n, h in (("1080p", 1080), ("360p", 360), ("720p", 720))]


def test_the_shipped_plans_load_in_price_order() -> None:
    plans = load_plans(configs.path(configs.PLANS))
    assert plans.names() == ["free", "basic", "standard", "premium"]
    assert plans["free"].is_free and not plans["free"].premium
    assert plans["premium"].premium and plans["premium"].streams == 4
    assert plans["standard"].amount_minor == 999
    assert [plans.rank(n) for n in plans.names()] == [0, 1, 2, 3]


def test_a_bad_plans_file_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = tmp_path / "plans.yaml"
    path.write_text("plans:\n  gold: {display_name: Gold, price: '-1', currency: usd}\n")
    with pytest.raises(PlansError) as caught:
        load_plans(path)
    message = str(caught.value)
    assert str(path) in message and "plans.gold.price" in message
    assert "plans.gold.currency" in message and "plans.gold.streams" in message


def test_premium_titles_need_a_plan_that_includes_them(settings: Settings) -> None:
    free = entitlements.free(settings)
    premium = entitlements.of_plan(settings.plans["premium"])
    assert entitlements.may_play(free, entitlements.Access.FREE)
    assert entitlements.may_play(free, None)  # a catalog from before access levels
    assert not entitlements.may_play(free, "premium")
    assert entitlements.may_play(premium, "premium")


def test_a_plan_is_given_the_renditions_up_to_its_height(settings: Settings) -> None:
    basic = entitlements.of_plan(settings.plans["basic"])
    assert entitlements.allowed_renditions(basic, RENDITIONS) == ["360p", "720p"]
    standard = entitlements.of_plan(settings.plans["standard"])
    assert entitlements.allowed_renditions(standard, RENDITIONS) == ["360p", "720p", "1080p"]
    # Every rendition above the cap: the lowest alone, never nothing.
    free = entitlements.free(settings)
    tall = [{"name": "1080p", "height": 1080}, {"name": "720p", "height": 720}]
    assert entitlements.allowed_renditions(free, tall) == ["720p"]
    assert entitlements.allowed_renditions(free, []) == []


def test_the_free_plan_must_cost_nothing_and_the_test_clock_stays_in_tests(
    settings: Settings,
) -> None:
    with pytest.raises(ValueError, match=r"subscriptions\.free_plan"):
        Settings(**{**settings.model_dump(), "subscriptions": {"free_plan": "premium"}})
    with pytest.raises(ValueError, match="test_clock: only in env test"):
        Settings(**{**settings.model_dump(), "env": "dev", "subscriptions": {"test_clock": True}})
