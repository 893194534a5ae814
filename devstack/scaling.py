"""`streamcore scale SERVICE N`: more or fewer instances of a web service, without a failed request.

Up: the new instances start, answer /healthz, register themselves, and the registrar gives each
a server slot in HAProxy; we wait until HAProxy's own check has put each into rotation.
Down: the highest-numbered instances leave first. Each is drained in HAProxy (`set server …
state drain`: no new requests), we wait until it holds no request (at most the backend's
`drain_timeout_s`), then stop it; on SIGTERM it drops its lease and stops.

Also the gateway's view of every instance, for `streamcore status`: health, weight, sessions,
and the process's CPU use.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

import psutil

from devstack import health, run_state
from devstack.run_state import StackError, running_settings
from devstack.services import WEB_SERVICES, ServiceSpec, instance_specs
from devstack.supervisor import Supervisor, SupervisorError
from gateway import runtime
from streamcore.settings import Settings

POLL_S = 0.25


@dataclass(frozen=True)
class GatewayView:
    """What HAProxy says of one instance's server slot."""

    slot: str
    status: str  # UP, DOWN, DRAIN, MAINT, ... (HAProxy's)
    in_rotation: bool  # taking new requests
    drained: bool  # drained by an operator (or by `scale`): no new requests
    check: str  # the last health check's result
    weight: int
    sessions: int


@dataclass(frozen=True)
class ScaleResult:
    service: str
    before: list[int]
    after: list[int]
    started: list[str]
    stopped: list[str]


def gateway_views(settings: Settings) -> dict[tuple[str, str, int], GatewayView]:
    """HAProxy's servers by (backend, address, port); empty when HAProxy does not answer."""
    try:
        rows = runtime.run_sync(runtime.for_settings(settings).servers())
    except (OSError, runtime.RuntimeApiError):
        return {}
    return {
        (row.backend, row.addr, row.port): GatewayView(
            row.slot,
            row.status,
            row.in_rotation,
            row.admin is runtime.AdminState.DRAIN,
            row.check_status,
            row.weight,
            row.sessions,
        )
        for row in rows
        if not row.free
    }


def view_of(
    settings: Settings, spec: ServiceSpec, views: dict[tuple[str, str, int], GatewayView]
) -> GatewayView | None:
    section = settings.service(spec.group)
    return views.get((spec.group, section.registered_host, section.instance_port(spec.instance)))


def cpu_percent(pid: int | None, interval_s: float = 0.2) -> float | None:
    """The process's CPU use over a short window, percent of one core."""
    if pid is None:
        return None
    try:
        return float(psutil.Process(pid).cpu_percent(interval=interval_s))
    except psutil.Error:
        return None


def scale(
    settings: Settings, service: str, count: int, on_step: Callable[[str], None] = lambda _: None
) -> ScaleResult:
    if service not in WEB_SERVICES:
        raise StackError(f"{service} is not a web service; scalable: {', '.join(WEB_SERVICES)}")
    settings = running_settings(settings)
    target = run_state.with_instances(settings, service, count)
    supervisor = Supervisor(settings.stack.data_dir)
    if supervisor.pid() is None:
        raise StackError("no stack is running")
    slots = [spec for spec in instance_specs(settings) if spec.group == service]
    processes = supervisor.processes()
    running = [s for s in slots if _running(processes.get(s.service))]
    before = [s.instance for s in running]
    starting = [s for s in slots if s.instance <= count and s not in running]
    # Highest first: instance 1 stays, like the one `up` starts.
    stopping = sorted((s for s in running if s.instance > count), key=lambda s: -s.instance)
    try:
        for spec in starting:
            on_step(f"starting {spec.service}")
            supervisor.start_program(spec.service)
        for spec in starting:
            _wait_in_rotation(target, spec, on_step)
        for spec in stopping:
            _drain(target, spec, on_step)
            on_step(f"stopping {spec.service}")
            supervisor.stop_program(spec.service)
    except SupervisorError as exc:
        raise StackError(str(exc)) from None
    run_state.record_instances(settings, service, count)
    return ScaleResult(
        service, before, list(range(1, count + 1)),
        [s.service for s in starting], [s.service for s in stopping],
    )  # fmt: skip


def rolling_restart(
    settings: Settings,
    supervisor: Supervisor,
    specs: list[ServiceSpec],
    on_step: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Restart instances one by one: drained, stopped, started, back in rotation."""
    for spec in specs:
        view = view_of(settings, spec, gateway_views(settings))
        if view is not None and view.in_rotation:
            _drain(settings, spec, on_step)
        supervisor.stop_program(spec.service)
        supervisor.start_program(spec.service)
        _undrain(settings, spec)
        _wait_in_rotation(settings, spec, on_step)
    return [spec.service for spec in specs]


def _undrain(settings: Settings, spec: ServiceSpec) -> None:
    """Take back our drain of a restarted instance's slot: the registrar leaves a drained slot
    alone (a drain means it is being scaled down), so no one else would."""
    view = view_of(settings, spec, gateway_views(settings))
    if view is not None and view.drained:
        runtime.run_sync(runtime.for_settings(settings).ready(spec.group, view.slot))


def _running(info: object) -> bool:
    return getattr(info, "state", None) in {"RUNNING", "STARTING"}


def _wait_in_rotation(
    settings: Settings, spec: ServiceSpec, on_step: Callable[[str], None]
) -> None:
    """Healthy, registered, and UP in HAProxy by its own health check."""
    gateway = settings.gateway
    # Registration is at once; HAProxy then needs `check_rise` good checks, each at most an
    # interval apart, before the server takes requests.
    timeout_s = settings.stack.startup_timeout_s + gateway.check_rise * gateway.check_interval_s
    deadline = time.monotonic() + timeout_s
    healthy = False
    while time.monotonic() < deadline:
        if not healthy:
            with contextlib.suppress(Exception):
                asyncio.run(health.probe_http(spec.url(settings)))
                healthy = True
                on_step(f"{spec.service} is healthy; waiting for the gateway to route to it")
        view = view_of(settings, spec, gateway_views(settings))
        if healthy and view is not None and view.in_rotation:
            on_step(f"{spec.service} is in rotation ({view.slot})")
            return
        time.sleep(POLL_S)
    raise StackError(f"{spec.service} was not in the gateway's rotation after {timeout_s:.0f}s")


def _drain(settings: Settings, spec: ServiceSpec, on_step: Callable[[str], None]) -> None:
    """No new requests for the instance, then wait until it holds none (bounded)."""
    view = view_of(settings, spec, gateway_views(settings))
    if view is None:
        return  # not behind the gateway (never registered, or HAProxy is down): nothing to drain
    runtime.run_sync(runtime.for_settings(settings).drain(spec.group, view.slot))
    on_step(f"draining {spec.service} ({view.slot})")
    deadline = time.monotonic() + settings.gateway.backends[spec.group].drain_timeout_s
    while time.monotonic() < deadline:
        current = view_of(settings, spec, gateway_views(settings))
        if current is None or current.sessions == 0:
            return
        time.sleep(POLL_S)
    on_step(f"{spec.service} still holds requests after the drain timeout; stopping it anyway")
