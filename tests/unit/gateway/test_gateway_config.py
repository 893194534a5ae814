"""The rendered haproxy.cfg: HAProxy 2.8 itself accepts it, and it says what settings say."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pydantic import ValidationError

from gateway.config import ERROR_CODES, duration, error_body, render
from gateway.paths import SOCKET_PATH_LIMIT, gateway_paths
from gateway.process import check_argv, write_config
from streamcore.settings import GatewayRoute, GatewaySettings, Settings


def haproxy_check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        check_argv(config),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def with_gateway(settings: Settings, **gateway: object) -> Settings:
    return settings.model_copy(update={"gateway": settings.gateway.model_copy(update=gateway)})


def with_data_dir(settings: Settings, data_dir: Path) -> Settings:
    return settings.model_copy(
        update={"stack": settings.stack.model_copy(update={"data_dir": data_dir})}
    )


def test_haproxy_accepts_the_config_without_a_warning(settings: Settings) -> None:
    config = write_config(settings)
    result = haproxy_check(config)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "[WARNING]" not in output and "[ALERT]" not in output, output


def test_routes_longest_prefix_first(settings: Settings) -> None:
    routes = (
        GatewayRoute(prefix="/v1/assets", service="catalog"),
        GatewayRoute(prefix="/v1/assets/live", service="streaming"),
    )
    text = render(with_gateway(settings, routes=routes))
    rules = re.findall(r"acl (route_\d+) path_beg (\S+)\n\s+use_backend (\S+) if \1", text)
    assert [(prefix, service) for _, prefix, service in rules] == [
        ("/v1/assets/live", "streaming"),
        ("/v1/assets", "catalog"),
    ]
    assert "default_backend no_route" in text


def test_patterns_come_before_every_prefix(settings: Settings) -> None:
    routes = (
        GatewayRoute(prefix="/v1/profiles", service="auth"),
        GatewayRoute(path_pattern=r"^/v1/profiles/[^/]+/history(/|$)", service="streaming"),
    )
    custom = with_gateway(settings, routes=routes)
    text = render(custom)
    rules = re.findall(r"acl (route_\d+) (path_\w+) (\S+)\n\s+use_backend (\S+) if \1", text)
    assert [(kind, service) for _, kind, _, service in rules] == [
        ("path_reg", "streaming"),
        ("path_beg", "auth"),
    ]
    # The kernel's reading of the same rules, which the services' tests use.
    assert custom.gateway.service_for("/v1/profiles/p1/history") == "streaming"
    assert custom.gateway.service_for("/v1/profiles/p1/history/x") == "streaming"
    assert custom.gateway.service_for("/v1/profiles/p1/historyx") == "auth"
    assert custom.gateway.service_for("/v1/profiles/p1") == "auth"
    assert custom.gateway.service_for("/nowhere") is None


def test_a_route_is_a_prefix_or_a_pattern() -> None:
    with pytest.raises(ValidationError, match="exactly one of prefix and path_pattern"):
        GatewayRoute(service="auth")
    with pytest.raises(ValidationError, match="exactly one of prefix and path_pattern"):
        GatewayRoute(prefix="/a", path_pattern="^/a", service="auth")
    with pytest.raises(ValidationError):
        GatewayRoute(path_pattern="^/a b", service="auth")  # a space ends HAProxy's word


def test_numbers_come_from_settings(settings: Settings) -> None:
    custom = with_gateway(
        settings,
        slots=3,
        check_interval_s=7,
        check_fast_interval_s=0.5,
        check_down_interval_s=3,
        check_fall=4,
        check_rise=5,
        check_timeout_s=1.5,
        error_limit=9,
        agent_interval_s=4,
        retries=2,
    )
    text = render(custom)
    assert (
        "server-template s 1-3 unassigned.invalid:1 init-addr last,0.0.0.0 disabled weight 100"
        " check inter 7s fastinter 500ms downinter 3s fall 4 rise 5"
        " observe layer7 error-limit 9 on-error mark-down"
        " agent-check agent-port 1 agent-inter 4s"
    ) in text
    assert "timeout check 1500ms" in text
    assert "    retries 2" in text
    # Each backend its own timeout: long for uploads, short for reads.
    for name, backend in settings.gateway.backends.items():
        section = text.split(f"\nbackend {name}\n", 1)[1].split("\nbackend ", 1)[0]
        assert f"timeout server {duration(backend.timeout_s)}" in section
        # An upgraded (WebSocket) connection is held to its own, longer idle limit.
        assert f"timeout tunnel {duration(backend.tunnel_timeout_s)}" in section
        assert f'"service":"{name}"' in section
    assert f"bind {settings.gateway.host}:{settings.gateway.metrics_port}" in text


def test_error_bodies_are_json_with_stable_codes() -> None:
    for status, (code, _) in ERROR_CODES.items():
        body = json.loads(error_body(status).replace("%[unique-id]", "rid-1234"))
        assert body["code"] == code == body["error"]["code"]
        assert body["request_id"] == "rid-1234"
    unavailable = json.loads(error_body(503, service="origin").replace("%[unique-id]", "x"))
    assert unavailable["code"] == "unavailable" and unavailable["service"] == "origin"
    assert json.loads(error_body(404).replace("%[unique-id]", "x"))["code"] == "not_found"


def test_render_is_pure(settings: Settings) -> None:
    assert render(settings) == render(settings)
    assert not (settings.stack.data_dir / "run").exists()


def test_sockets_move_to_a_short_folder_when_the_data_folder_is_deep(
    settings: Settings, tmp_path: Path
) -> None:
    short = gateway_paths(with_data_dir(settings, Path("/srv/sc")))
    assert short.admin_socket == Path("/srv/sc/run/haproxy-admin.sock")
    deep_dir = tmp_path / ("d" * 80)
    deep = with_data_dir(settings, deep_dir)
    paths = gateway_paths(deep)
    assert paths.config == deep_dir / "run" / "haproxy.cfg"
    assert paths.socket_dir.parent == Path("/tmp")
    assert len(str(paths.master_socket)) <= SOCKET_PATH_LIMIT
    assert gateway_paths(deep) == paths  # the same folder every time


def frontend(text: str) -> str:
    return text.split("\nfrontend fe_gateway\n", 1)[1].split("\nfrontend ", 1)[0]


def test_flood_protection_follows_settings(settings: Settings) -> None:
    custom = with_gateway(
        settings,
        flood_max_connections=7,
        flood_max_request_rate=300,
        flood_rate_period_s=2.5,
        flood_table_size=5000,
        flood_expire_s=30,
    )
    # HAProxy itself accepts the rules, with no warning (one is given for rules out of order).
    result = haproxy_check(write_config(custom))
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "[WARNING]" not in output, output
    lines = [line.strip() for line in frontend(render(custom)).splitlines()]
    rules = [line for line in lines if line and not line.startswith("#")]
    assert (
        "stick-table type ipv6 size 5000 expire 30s store conn_cur,http_req_rate(2500ms)" in rules
    )
    track = rules.index("tcp-request connection track-sc0 src")
    assert rules[track + 1] == "tcp-request connection reject if { sc_conn_cur(0) gt 7 }"
    deny = next(i for i, rule in enumerate(rules) if rule.startswith("http-request deny"))
    assert rules[deny].endswith("if { sc_http_req_rate(0) gt 300 }")
    assert "status 429 content-type application/json" in rules[deny]
    assert "hdr Retry-After 3 " in rules[deny]  # whole seconds, rounded up
    body = json.loads(rules[deny].split("lf-string '", 1)[1].split("'", 1)[0])
    assert body["error"]["code"] == "rate_limited" == body["code"]
    assert body["request_id"] == "%[unique-id]"
    # Tracked before any HTTP rule; refused after the request id is set, before routing.
    first_http = next(i for i, rule in enumerate(rules) if rule.startswith("http-request"))
    assert track < first_http < deny
    assert rules[first_http].startswith("http-request set-header X-Request-ID")
    assert deny < next(i for i, rule in enumerate(rules) if rule.startswith("use_backend"))


def test_flood_protection_off_renders_none_of_it(settings: Settings) -> None:
    text = render(with_gateway(settings, flood_enabled=False))
    for word in ("stick-table", "track-sc0", "sc_conn_cur", "sc_http_req_rate", "Retry-After"):
        assert word not in text
    on = frontend(render(settings))
    assert "sc_conn_cur(0) gt 200" in on and "sc_http_req_rate(0) gt 2000" in on


def test_flood_entries_must_outlive_the_rate_period() -> None:
    with pytest.raises(ValidationError, match="flood_expire_s must be at least"):
        GatewaySettings(flood_rate_period_s=60, flood_expire_s=10)
    with pytest.raises(ValidationError, match="flood_max_request_rate"):
        GatewaySettings(flood_max_request_rate=0)


@pytest.mark.parametrize(("seconds", "text"), [(10, "10s"), (0.5, "500ms"), (3600, "3600s")])
def test_durations(seconds: float, text: str) -> None:
    assert duration(seconds) == text
