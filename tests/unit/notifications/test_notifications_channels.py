"""Who gets which channel (notifications/channels.py), the message order and latest-wins
progress in a replay (notifications/replay.py), the permission table's completeness and the
OpenAPI document against the routes."""

from __future__ import annotations

import re
import uuid

from openapi_spec_validator import validate

from notifications.app import create_app
from notifications.channels import channels_for
from notifications.messages import Message, order_of, valid_id
from notifications.openapi import document
from notifications.permissions import PERMISSIONS
from notifications.replay import latest_progress
from streamcore import notify
from streamcore.auth.middleware import unlisted_routes
from streamcore.auth.principal import Principal
from streamcore.auth.roles import Role
from streamcore.settings import load_settings
from tests.openapi_routes import served_routes


def test_a_viewer_gets_its_profile_and_account_channels_and_never_alerts() -> None:
    account, profile = uuid.uuid4(), uuid.uuid4()
    viewer = Principal(role=Role.VIEWER, account_id=account, profile_id=profile)
    assert channels_for(viewer) == [
        f"progress:{profile}", f"recommendations:{profile}", "recommendations",
        f"subscription:{account}", f"jobs:{account}",
    ]  # fmt: skip
    assert notify.ALERTS not in channels_for(Principal(role=Role.CREATOR, account_id=account))


def test_an_admin_also_gets_alerts_and_the_jobs_nobody_owns() -> None:
    admin = Principal(role=Role.ADMIN, account_id=uuid.uuid4(), profile_id=uuid.uuid4())
    assert channels_for(admin)[-2:] == ["alerts", "jobs"]
    assert channels_for(Principal(role=Role.ADMIN, service="ci")) == ["alerts", "jobs"]


def test_ids_order_as_pairs_of_integers() -> None:
    assert order_of("1700000000000-10") > order_of("1700000000000-9")
    assert order_of("1700000000001-0") > order_of("1700000000000-99")
    assert valid_id("1-2") and not valid_id("1-") and not valid_id("$")


def test_a_replay_keeps_the_newest_progress_per_asset_only() -> None:
    progress, other = notify.progress(uuid.uuid4()), notify.subscription(uuid.uuid4())
    messages = [
        Message("1-1", progress, "progress", {"asset_id": "a", "position_s": 1}),
        Message("1-2", other, "transition", {"state": "Active"}),
        Message("1-3", progress, "progress", {"asset_id": "b", "position_s": 7}),
        Message("1-4", progress, "progress", {"asset_id": "a", "position_s": 2}),
    ]
    assert [m.id for m in latest_progress(messages)] == ["1-2", "1-3", "1-4"]


def test_every_route_declares_who_may_call_it() -> None:
    assert unlisted_routes(create_app(load_settings()), PERMISSIONS) == []


def test_the_document_is_valid_and_documents_every_route() -> None:
    spec = document()
    validate(spec)
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    served = served_routes(create_app(load_settings()), re.compile(r"^/openapi/"))
    assert served == documented
    assert "101" in spec["paths"]["/v1/ws"]["get"]["responses"]
