"""The gateway in front of the real stack: routing, failures under load, scaling, CPU-aware weights.

Everything goes through the HAProxy the stack runs (`gateway`), to the stack's real service
instances, on 127.0.0.1. Each scenario runs steady load from client threads (`Load`) and
counts every failed request; HAProxy's own view (its runtime API) says when a server left
rotation. The check intervals are the production defaults (inter 10 s, fastinter 1 s).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from devstack import control, scaling
from devstack.run_state import running_settings
from devstack.services import instance_name
from devstack.supervisor import Supervisor
from gateway import runtime
from gateway.paths import gateway_paths
from streamcore import registry
from streamcore.cache.redis_client import create_redis
from streamcore.settings import Settings

pytestmark = pytest.mark.stack

# Out of rotation within this long of dying or hanging (the limit).
REMOVAL_LIMIT_S = 30.0


@dataclass
class Load:
    """Client threads sending GETs through the gateway until stopped; every outcome counted."""

    url: str
    threads: int = 4
    timeout_s: float = 40.0
    ok: int = 0
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.url)
                    outcome = None if response.status_code == 200 else str(response.status_code)
                except httpx.HTTPError as exc:
                    outcome = repr(exc)
                with self._lock:
                    if outcome is None:
                        self.ok += 1
                    else:
                        self.failures.append(outcome)

    def __enter__(self) -> Load:
        self._workers = [threading.Thread(target=self._run) for _ in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=self.timeout_s + 5)


def _servers(settings: Settings, backend: str) -> list[runtime.Server]:
    rows = runtime.run_sync(runtime.for_settings(settings).servers(backend))
    return [row for row in rows if not row.free]


def _server_of(settings: Settings, service: str, index: int) -> runtime.Server | None:
    port = settings.service(service).instance_port(index)
    return next((row for row in _servers(settings, service) if row.port == port), None)


def _in_rotation(settings: Settings, service: str, index: int) -> bool:
    server = _server_of(settings, service, index)
    return server is not None and server.in_rotation


def _wait_for(predicate: object, timeout_s: float, what: str) -> float:
    """Seconds until predicate() held; fails after timeout_s."""
    assert callable(predicate)
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout_s, f"{what}: not within {timeout_s:.0f}s"
        time.sleep(0.1)
    return time.monotonic() - start


def _pid(settings: Settings, service: str, index: int) -> int:
    info = Supervisor(settings.stack.data_dir).processes()[instance_name(service, index)]
    assert info.pid is not None
    return info.pid


@pytest.fixture
def two_catalogs(stack: Settings) -> Iterator[Settings]:
    scaling.scale(stack, "catalog", 2)
    yield running_settings(stack)
    scaling.scale(stack, "catalog", 1)


def test_routes_by_prefix_and_answers_json_for_unknown_paths(stack: Settings) -> None:
    base = stack.gateway.entry_url
    assert httpx.get(f"{base}/v1/titles", timeout=10).status_code == 200
    assert httpx.post(f"{base}/v1/viewers", timeout=10).status_code == 201  # streaming
    missing = httpx.get(f"{base}/no/such/thing", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")
    assert missing.json()["code"] == "not_found"


def test_request_ids_reach_the_service_and_its_log(stack: Settings) -> None:
    base = stack.gateway.entry_url
    generated = httpx.get(f"{base}/diag/catalog/cpu?ms=1", timeout=10)
    assert generated.status_code == 200
    assert generated.headers.get("X-Request-ID")
    mine = f"test-{uuid.uuid4()}"
    answered = httpx.get(f"{base}/diag/catalog/cpu?ms=1", headers={"X-Request-ID": mine})
    assert answered.headers["X-Request-ID"] == mine
    log_file = stack.stack.data_dir / "logs" / "catalog-1.log"
    _wait_for(lambda: mine in log_file.read_text(errors="replace"), 10, "the access log line")
    line = next(line for line in log_file.read_text().splitlines() if mine in line)
    assert "forwarded_for=127.0.0.1" in line


def test_a_service_without_live_instances_is_503_json(stack: Settings) -> None:
    base = stack.gateway.entry_url
    control.stop_service(stack, "streaming")
    try:
        _wait_for(
            lambda: not any(row.in_rotation for row in _servers(stack, "streaming")), 40, "down"
        )
        answer = httpx.post(f"{base}/v1/viewers", timeout=10)
        assert answer.status_code == 503
        assert answer.json() == {"code": "unavailable", "service": "streaming"} | {
            k: v for k, v in answer.json().items() if k not in {"code", "service"}
        }
    finally:
        control.restart_service(stack, "streaming")
    _wait_for(lambda: _in_rotation(stack, "streaming", 1), 40, "streaming back in rotation")


def test_sigkill_loses_no_request_and_the_instance_comes_back(two_catalogs: Settings) -> None:
    settings = two_catalogs
    victim = _pid(settings, "catalog", 2)
    with Load(f"{settings.gateway.entry_url}/diag/catalog/cpu?ms=2") as load:
        time.sleep(2)
        os.kill(victim, signal.SIGKILL)
        out_s = _wait_for(
            lambda: not _in_rotation(settings, "catalog", 2),
            REMOVAL_LIMIT_S,
            "the killed instance out of rotation",
        )
        # supervisord starts it again; it registers itself and HAProxy's check brings it back.
        _wait_for(
            lambda: _in_rotation(settings, "catalog", 2), 60, "the restarted one back in rotation"
        )
        time.sleep(1)
    assert load.failures == [], load.failures
    assert load.ok > 50
    assert out_s < REMOVAL_LIMIT_S
    assert _pid(settings, "catalog", 2) != victim
    redis = create_redis(settings)

    async def registered() -> list[registry.Registration]:
        try:
            return await registry.instances(redis)
        finally:
            await redis.aclose()

    pids = {r.pid for r in asyncio.run(registered()) if r.service == "catalog"}
    assert _pid(settings, "catalog", 2) in pids


def test_a_frozen_instance_is_out_within_30s(two_catalogs: Settings) -> None:
    settings = two_catalogs
    victim = _pid(settings, "catalog", 2)
    with Load(f"{settings.gateway.entry_url}/diag/catalog/cpu?ms=2") as load:
        time.sleep(2)
        os.kill(victim, signal.SIGSTOP)
        try:
            out_s = _wait_for(
                lambda: not _in_rotation(settings, "catalog", 2),
                REMOVAL_LIMIT_S + 5,
                "the frozen instance out of rotation",
            )
            time.sleep(2)
        finally:
            os.kill(victim, signal.SIGCONT)
    print(f"frozen instance out after {out_s:.1f}s; {len(load.failures)} failed of "
          f"{load.ok + len(load.failures)}")  # fmt: skip
    assert out_s < REMOVAL_LIMIT_S
    # Requests already sent to it wait for the read timeout, then are retried elsewhere (GETs).
    assert len(load.failures) <= load.threads, load.failures
    _wait_for(lambda: _in_rotation(settings, "catalog", 2), 60, "the thawed one back in rotation")


def test_scaling_up_and_down_under_load_fails_no_request(stack: Settings) -> None:
    with Load(f"{stack.gateway.entry_url}/diag/catalog/cpu?ms=2") as load:
        time.sleep(1)
        up = scaling.scale(stack, "catalog", 3)
        assert up.started == ["catalog-2", "catalog-3"]
        assert len([s for s in _servers(stack, "catalog") if s.in_rotation]) == 3
        time.sleep(2)
        down = scaling.scale(stack, "catalog", 1)
        assert down.stopped == ["catalog-3", "catalog-2"]
        time.sleep(1)
    assert load.failures == [], load.failures
    assert load.ok > 50
    report = control.status(stack)
    assert [(i.service, i.instance) for i in report.instances if i.service == "catalog"] == [
        ("catalog", 1)
    ]


def test_a_busy_instance_gets_fewer_new_requests(two_catalogs: Settings) -> None:
    settings = two_catalogs
    busy_port = settings.catalog_api.instance_port(2)
    stop = threading.Event()

    def burn() -> None:
        # Straight to instance 2, not through the gateway: only it gets hot.
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                client.get(f"http://127.0.0.1:{busy_port}/diag/catalog/cpu?ms=200")

    burners = [threading.Thread(target=burn) for _ in range(2)]
    for thread in burners:
        thread.start()
    try:
        _wait_for(lambda: (s := _server_of(settings, "catalog", 2)) is not None
                  and s.weight < 100, 30, "the busy instance's weight lowered")  # fmt: skip
        served: Counter[str] = Counter()
        with httpx.Client(timeout=30) as client:
            for _ in range(200):
                answer = client.get(f"{settings.gateway.entry_url}/diag/catalog/cpu?ms=1")
                served[answer.headers["X-Served-By"]] += 1
    finally:
        stop.set()
        for thread in burners:
            thread.join()
    cool, hot = served["catalog-1"], served["catalog-2"]
    print(f"requests served: cool instance {cool}, busy instance {hot}")
    # Weights 100:10 would give about 182:18; equal weights about 100:100. On a loaded machine
    # the busy instance's CPU (and so its weight) wavers around the threshold, so the margin
    # asked for is "clearly fewer", not the ideal ratio.
    assert hot < cool / 2
    _wait_for(lambda: (s := _server_of(settings, "catalog", 2)) is not None
              and s.weight == 100, 30, "full weight once it cooled")  # fmt: skip


def test_prometheus_finds_the_gateway_and_every_instance(stack: Settings) -> None:
    """The registrar's file_sd targets (what configs/prometheus.yaml scrapes) all answer."""
    path = gateway_paths(stack).scrape_targets
    expected = {"gateway", "catalog-1", "streaming-1", "origin-1", "auth-1"}

    def listed() -> set[str]:
        try:
            groups = json.loads(path.read_text())
        except FileNotFoundError:
            return set()
        return {group["labels"]["instance_name"] for group in groups}

    _wait_for(lambda: expected <= listed(), 10, "every instance in the scrape targets")
    for group in json.loads(path.read_text()):
        (target,) = group["targets"]
        answer = httpx.get(f"http://{target}/metrics", timeout=10)
        assert answer.status_code == 200, target
        assert "# TYPE" in answer.text
        if group["labels"]["service"] == "gateway":
            assert 'haproxy_backend_active_servers{proxy="catalog"} 1' in answer.text
