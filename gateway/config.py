"""HAProxy's configuration, rendered from settings: `render(settings)` is a pure function.

One section builder per concern, each line with the reason it is there (as a comment in the
rendered file, so that whoever reads haproxy.cfg reads the why as well). Every number comes
from `settings.gateway` (docs/gateway.md explains them); the few that settings do not name are
constants here, with their reason. Verified against HAProxy 2.8 with ``haproxy -c`` by
tests/unit/gateway/test_gateway_config.py.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

from gateway.paths import GatewayPaths, gateway_paths
from gateway.slots import PLACEHOLDER_FQDN, SLOT_PREFIX, SLOT_WEIGHT, UNASSIGNED_ADDR
from gateway.slots import UNASSIGNED_PORT as _PORT
from streamcore.settings import GatewayBackend, GatewaySettings, Settings

# Connections HAProxy accepts at once before queueing in the kernel (not a setting yet).
MAXCONN = 4096
# The backend for paths no route names: it answers 404 itself. Service names cannot hold "_".
NO_ROUTE_BACKEND = "no_route"
# A client's own X-Request-ID is kept when it is one such header of plain characters;
# anything else (missing, repeated, too long, quotes or spaces) is replaced by a fresh UUID.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{8,128}$"
# HAProxy's "option httplog" format (doc/configuration.txt, 8.2.3) plus the request id.
LOG_FORMAT = (
    "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc "
    "%ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r id=%ID"
)
# The errors HAProxy itself may answer, each with a stable code like the services' own.
ERROR_CODES = {
    400: ("bad_request", "the request could not be parsed"),
    403: ("forbidden", "the request was refused"),
    408: ("request_timeout", "the request was not received in time"),
    429: ("rate_limited", "too many requests from this address; retry later"),
    500: ("internal_error", "the gateway failed; it has been logged"),
    502: ("bad_gateway", "the service answered with an invalid response"),
    503: ("unavailable", "no instance is available"),
    504: ("gateway_timeout", "the service did not answer in time"),
}
# Answered by every backend for its own failures, naming the service.
BACKEND_ERRORS = (502, 503, 504)
_REQUEST_ID_SLOT = "__request_id__"


def render(settings: Settings) -> str:
    """The whole haproxy.cfg for these settings."""
    gateway = settings.gateway
    paths = gateway_paths(settings)
    sections = [
        _header(),
        _global(gateway, paths),
        _defaults(gateway),
        _frontend(gateway),
        _metrics_frontend(gateway),
        _no_route_backend(),
        *(_backend(name, backend, gateway) for name, backend in gateway.backends.items()),
    ]
    return "\n".join("\n".join(section) for section in sections) + "\n"


def duration(seconds: float) -> str:
    """HAProxy's time syntax: whole seconds as "10s", anything finer in milliseconds."""
    ms = round(seconds * 1000)
    return f"{ms // 1000}s" if ms % 1000 == 0 else f"{ms}ms"


def error_body(status: int, *, service: str | None = None) -> str:
    """A JSON error body as an HAProxy log-format string (the request id filled in per request).

    ``code`` and ``service`` at the top level, as clients of the gateway read them; ``error``
    as every service's own errors read (streamcore/web/service.py), so that one parser fits.
    """
    code, message = ERROR_CODES.get(status, ("not_found", "no service answers this path"))
    if service is not None:
        message = message.replace("no instance", f"no {service} instance").replace(
            "the service", f"the {service} service"
        )
    body: dict[str, object] = {"code": code, "message": message}
    if service is not None:
        body["service"] = service
    body["request_id"] = _REQUEST_ID_SLOT
    body["error"] = {"code": code, "message": message}
    text = json.dumps(body, separators=(",", ":"))
    # Quoted with single quotes in the config, and "%" starts a log-format expression.
    if "'" in text or "%" in text:
        raise ValueError(f"an error body cannot hold ' or %: {text}")
    return text.replace(f'"{_REQUEST_ID_SLOT}"', '"%[unique-id]"')


def _http_error(status: int, service: str | None = None) -> str:
    return (
        f"    http-error status {status} content-type application/json"
        f" lf-string '{error_body(status, service=service)}' hdr Cache-Control no-store"
    )


def _header() -> list[str]:
    return [
        "# Rendered by gateway/config.py from StreamCore's settings; edits here are overwritten.",
        "# How routing, checks, the agent, the registry and reloads fit: docs/gateway.md.",
    ]


def _global(gateway: GatewaySettings, paths: GatewayPaths) -> list[str]:
    longest = max(
        max(backend.timeout_s, backend.write_timeout_s) for backend in gateway.backends.values()
    )
    return [
        "",
        "global",
        "    # A master process supervises the workers and reloads them without dropping",
        "    # connections: the new worker takes the listening sockets from the old one",
        "    # (socket transfer over the master's socketpair, the '-x' mechanism).",
        "    master-worker",
        f"    pidfile {paths.run_dir / 'haproxy.pid'}",
        "    # The runtime API: the registrar assigns server slots through it. 'expose-fd",
        "    # listeners' lets a new process started with -x take the listeners from here.",
        f"    stats socket {paths.admin_socket} mode 600 level admin expose-fd listeners",
        "    # Saved before each reload (gateway/reload.py) and read by the new worker, so that",
        "    # assigned slots, their addresses and states survive the reload.",
        f"    server-state-file {paths.state_file}",
        f"    maxconn {MAXCONN}",
        "    # An old worker left by a reload finishes its requests, the longest an upload.",
        f"    hard-stop-after {duration(longest)}",
        "    log stdout format raw daemon",
    ]


def _defaults(gateway: GatewaySettings) -> list[str]:
    return [
        "",
        "defaults",
        "    mode http",
        "    log global",
        "    option httplog",
        "    # The client's address, for the services' logs (X-Forwarded-For; trust its last).",
        "    option forwardfor",
        "    # During a reload, idle keep-alive connections are closed after their next",
        "    # response (with 'Connection: close') rather than under a client about to reuse it.",
        "    option idle-close-on-response",
        f"    timeout connect {duration(gateway.connect_timeout_s)}",
        f"    timeout client {duration(gateway.client_timeout_s)}",
        "    # Each backend sets its own 'timeout server'; this is only a floor for others.",
        f"    timeout server {duration(min(b.timeout_s for b in gateway.backends.values()))}",
        "    # A hung instance fails its check after this instead of stalling it.",
        f"    timeout check {duration(gateway.check_timeout_s)}",
        "    load-server-state-from-file global",
        "    # JSON errors with stable codes, never HAProxy's HTML pages.",
        *(_http_error(status) for status in ERROR_CODES),
    ]


def _frontend(gateway: GatewaySettings) -> list[str]:
    # Patterns first, in their order, then the longest prefix first: use_backend rules are
    # tried in order, first match wins.
    patterns = [route for route in gateway.routes if route.path_pattern is not None]
    prefixes = sorted(
        (route for route in gateway.routes if route.prefix is not None),
        key=lambda route: (-len(route.prefix or ""), route.prefix),
    )
    lines = [
        "",
        "frontend fe_gateway",
        f"    bind {gateway.host}:{gateway.port}",
        "    # option httplog's fields, and the request id.",
        f'    log-format "{LOG_FORMAT}"',
        *_flood_tracking(gateway),
        "    # One X-Request-ID per request: a client's well-formed one is kept, else a UUID.",
        "    http-request set-header X-Request-ID %[uuid(4)] unless"
        " { req.hdr_cnt(X-Request-ID) eq 1 }"
        f" {{ req.hdr(X-Request-ID) -m reg {REQUEST_ID_PATTERN} }}",
        "    # HAProxy's unique id is that header: logged as %ID, echoed to the client below.",
        "    unique-id-format %[req.hdr(X-Request-ID)]",
        "    # After-response rules also apply to HAProxy's own answers (404, 503, ...).",
        "    http-after-response set-header X-Request-ID %[unique-id]",
        *_flood_refusal(gateway),
        "    # Routing by path pattern, then by path prefix (gateway.routes).",
    ]
    for index, route in enumerate([*patterns, *prefixes]):
        if route.path_pattern is not None:
            lines.append(f"    acl route_{index} path_reg {route.path_pattern}")
        else:
            lines.append(f"    acl route_{index} path_beg {route.prefix}")
        lines.append(f"    use_backend {route.service} if route_{index}")
    lines += ["    # Any other path.", f"    default_backend {NO_ROUTE_BACKEND}"]
    return lines


def _flood_tracking(gateway: GatewaySettings) -> list[str]:
    """Per source address: connections open now and the HTTP request rate (gateway.flood_*)."""
    if not gateway.flood_enabled:
        return []
    return [
        "    # Flood protection: a coarse cap per source address before anything else runs",
        "    # (the services' own limits are the fine ones). 'ipv6' keys hold IPv4 addresses",
        "    # too, as ::ffff:a.b.c.d.",
        f"    stick-table type ipv6 size {gateway.flood_table_size}"
        f" expire {duration(gateway.flood_expire_s)}"
        f" store conn_cur,http_req_rate({duration(gateway.flood_rate_period_s)})",
        "    # Tracked as each connection is accepted: the socket's source address, not",
        "    # X-Forwarded-For (behind a CDN or load balancer, track the forwarded address).",
        "    tcp-request connection track-sc0 src",
        "    # One connection too many is closed at once, before any request is read.",
        "    tcp-request connection reject if"
        f" {{ sc_conn_cur(0) gt {gateway.flood_max_connections} }}",
    ]


def _flood_refusal(gateway: GatewaySettings) -> list[str]:
    """Over the request rate: HAProxy answers 429 itself (after the request id is set, so that
    the answer carries one), before routing: nothing reaches a backend or counts against it."""
    if not gateway.flood_enabled:
        return []
    # A sliding estimate (this period's count plus the last one's, weighted by the time left):
    # a client that stops is let through within two periods at most; one is the hint.
    retry_after = math.ceil(gateway.flood_rate_period_s)
    return [
        "    # Too many requests from this address in the period: a JSON 429, never forwarded.",
        "    # Refused requests count too, so a flood stays refused until it slows down.",
        "    http-request deny status 429 content-type application/json"
        f" lf-string '{error_body(429)}' hdr Retry-After {retry_after}"
        " hdr Cache-Control no-store"
        f" if {{ sc_http_req_rate(0) gt {gateway.flood_max_request_rate} }}",
    ]


def _metrics_frontend(gateway: GatewaySettings) -> list[str]:
    return [
        "",
        "frontend fe_metrics",
        "    # HAProxy's own Prometheus exporter and stats page, on a port of their own.",
        f"    bind {gateway.host}:{gateway.metrics_port}",
        "    # Scrapes and stats page views are not worth a log line each.",
        "    http-request set-log-level silent",
        "    http-request use-service prometheus-exporter if { path /metrics }",
        "    # The gateway process itself answers (for the stack's health probe).",
        "    http-request return status 200 content-type application/json"
        ' string \'{"status":"ok"}\' if { path /healthz }',
        "    stats enable",
        "    stats uri /stats",
        f"    stats refresh {duration(gateway.check_interval_s)}",
    ]


def _no_route_backend() -> list[str]:
    return [
        "",
        f"backend {NO_ROUTE_BACKEND}",
        "    # No route names this path: a JSON 404, like the services' own.",
        "    http-request return status 404 content-type application/json"
        f" lf-string '{error_body(404)}' hdr Cache-Control no-store",
    ]


def _backend(name: str, backend: GatewayBackend, gateway: GatewaySettings) -> Iterator[str]:
    yield from [
        "",
        f"backend {name}",
        "    balance roundrobin",
        "    # Reads are given up on soon (a hung instance; the read is retried elsewhere);",
        "    # writes, uploads among them, may stream for long.",
        f"    timeout server {duration(backend.timeout_s)}",
        f"    http-request set-timeout server {duration(backend.write_timeout_s)}"
        " unless METH_GET || METH_HEAD || METH_OPTIONS",
        "    # An upgraded connection (a WebSocket) is a tunnel: idle both ways this long before",
        "    # it is cut, not at 'timeout server' (HAProxy passes HTTP/1.1 upgrades as is).",
        f"    timeout tunnel {duration(backend.tunnel_timeout_s)}",
        "    # Active checks: an instance answers GET /healthz with 200 or is taken out.",
        "    option httpchk GET /healthz",
        "    http-check expect status 200",
        "    # A failed connection is retried on another instance (redispatch at each retry);",
        "    # an empty response, no response in time or a 503 only for requests that are",
        "    # safe to send twice.",
        f"    retries {gateway.retries}",
        "    option redispatch 1",
        "    retry-on conn-failure empty-response response-timeout 503",
        "    http-request disable-l7-retry unless METH_GET || METH_OPTIONS",
        *(_http_error(status, name) for status in BACKEND_ERRORS),
        *_slots(gateway),
    ]


def _slots(gateway: GatewaySettings) -> list[str]:
    checks = (
        f"check inter {duration(gateway.check_interval_s)}"
        f" fastinter {duration(gateway.check_fast_interval_s)}"
        f" downinter {duration(gateway.check_down_interval_s)}"
        f" fall {gateway.check_fall} rise {gateway.check_rise}"
    )
    passive = f"observe layer7 error-limit {gateway.error_limit} on-error mark-down"
    agent = f"agent-check agent-port {_PORT} agent-inter {duration(gateway.agent_interval_s)}"
    return [
        f"    # {gateway.slots} slots, free until the registrar assigns an instance to one:",
        f"    # in maintenance ('disabled') at the placeholder {UNASSIGNED_ADDR}:{_PORT}.",
        "    # 'init-addr last' takes a slot's address from the server-state file on reload.",
        "    # Passive checks (observe layer7) are the circuit breaker: error-limit errors in a",
        "    # row on live traffic mark the instance down until its health checks pass again.",
        "    # The agent (its port set per instance at run time) answers a weight from its CPU.",
        f"    server-template {SLOT_PREFIX} 1-{gateway.slots} {PLACEHOLDER_FQDN}:{_PORT}"
        f" init-addr last,{UNASSIGNED_ADDR} disabled weight {SLOT_WEIGHT}"
        f" {checks} {passive} {agent}",
    ]
