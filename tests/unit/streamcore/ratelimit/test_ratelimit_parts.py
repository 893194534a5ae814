"""The rate limiter's pure parts: address groupings, the RateLimit fields, budgets' settings,
and that every service installs the guard."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from aiohttp import web
from pydantic import ValidationError

import configs
from auth.app import create_app as create_auth
from catalog_api.app import create_app as create_catalog
from cdn_adapters.edge.app import create_edge_app
from origin.app import create_app as create_origin
from streamcore.ratelimit import headers, keys
from streamcore.ratelimit.algorithms import Verdict
from streamcore.ratelimit.config import RateLimitSettings, RateRule
from streamcore.ratelimit.guard import RateGuard
from streamcore.settings import Settings, SettingsError, load_settings
from streaming.app import create_app as create_streaming
from subscriptions.app import create_app as create_subscriptions


def test_clients_and_ranges() -> None:
    assert keys.client_group("203.0.113.7") == "203.0.113.7"
    assert keys.client_group("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert keys.client_group("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert keys.client_group("::ffff:203.0.113.7") == "203.0.113.7"
    assert keys.network_range("203.0.113.7") == "203.0.113.0/24"
    assert keys.network_range("2001:db8:1:2377::1") == "2001:db8:1:2300::/56"
    assert keys.network_range("not an address") is None
    assert keys.parse_range(" 203.0.113.9/24 ") == "203.0.113.0/24"
    with pytest.raises(ValueError):
        keys.parse_range("203.0.113.0/33")


def test_fields_follow_the_draft() -> None:
    window = RateRule(limit=100)
    verdict = Verdict(allowed=True, remaining=42, reset_s=17, retry_after_s=0, limit=100)
    assert headers.fields("read", window, verdict) == {
        "RateLimit-Policy": '"read";q=100;w=60', "RateLimit": '"read";r=42;t=17'
    }  # fmt: skip
    # A GCRA budget: its burst is the quota, the burst's refill time the window.
    bucket = RateRule(limit=600, algorithm="gcra", burst=120)
    burst = Verdict(allowed=True, remaining=119, reset_s=1, retry_after_s=0, limit=120)
    assert headers.policy("media", bucket, burst) == '"media";q=120;w=12'


def test_budgets_are_validated() -> None:
    with pytest.raises(ValidationError, match="burst: only for algorithm gcra"):
        RateRule(limit=10, burst=5)
    with pytest.raises(ValidationError, match="not an IP network"):
        RateLimitSettings(exempt_networks=("10.0.0.0/99",))
    assert RateRule(limit=60, algorithm="gcra").capacity == 60


def test_a_budget_given_in_part_changes_that_part(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMCORE_RATELIMIT__READ__PLANS", '{"free": {"limit": 5}}')
    read = load_settings("test").ratelimit.read
    assert read.plans["free"].limit == 5
    assert read.plans["premium"].limit == 300 and read.anonymous.limit == 100


def test_every_plan_needs_a_budget(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    plans = tmp_path / "plans.yaml"
    family = {"display_name": "Family", "price": "19.99", "currency": "EUR", "streams": 6,
              "max_height": 1080, "premium": True}  # fmt: skip
    shipped = yaml.safe_load(configs.path("plans.yaml").read_text())
    shipped["plans"]["family"] = family
    plans.write_text(yaml.safe_dump(shipped))
    monkeypatch.setenv("STREAMCORE_SUBSCRIPTIONS__PLANS_PATH", str(plans))
    with pytest.raises(SettingsError, match=r"no budget for read\.plans\.family"):
        load_settings("test")


def _guarded(app: web.Application) -> bool:
    guards = {getattr(m, "__self__", None) for m in app.middlewares}
    roles = {getattr(m, "__name__", "") for m in app.middlewares}
    has_guard = any(isinstance(g, RateGuard) for g in guards)
    return has_guard and {"observer", "limiter"} <= roles and len(app.on_response_prepare) > 0


def test_every_service_is_guarded() -> None:
    settings: Settings = load_settings("test")
    edge = next(cdn for cdn in settings.cdns if cdn.kind == "local_edge")
    apps = {
        "auth": create_auth(settings), "catalog": create_catalog(settings),
        "streaming": create_streaming(settings), "subscriptions": create_subscriptions(settings),
        "origin": create_origin(settings), "edge": create_edge_app(settings, edge),
    }  # fmt: skip
    assert {name: _guarded(app) for name, app in apps.items()} == dict.fromkeys(apps, True)
