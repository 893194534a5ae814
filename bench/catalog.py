"""Catalog reads with the cache against the same reads without it, and against a bare aiohttp
"hello" endpoint (the floor an aiohttp service has on this machine), in one run.

Needs a running stack with a catalog in it:

    streamcore up --detach [--replicas 1]
    streamcore titles generate --count 10000 --seed 1 -o /tmp/catalog.json
    streamcore titles import /tmp/catalog.json
    .venv/bin/python -m bench.catalog [--rate 200] [--seconds 15]

(As a module: run as a script, bench/ would come first on sys.path and bench/gateway.py
would shadow the `gateway` package devstack imports.)

It starts two catalog API processes of its own on free ports, against the stack's database and
Redis: one as configured, one with the cache disabled (STREAMCORE_CACHE__ENABLED=false). From
this process (not theirs) it sends the same requests to each at a steady rate (an open loop:
each request is due at a fixed time, and its latency counts from then, so a stalled server
cannot hide its queue) and prints p50/p99/max latency per endpoint, and the cache hit ratio read
from the cached server's /metrics. Requests: single titles (GET /v1/titles/{id}) drawn from a
hot set with a Zipf-like skew, and list pages (GET /v1/titles?...) from a fixed set of filters
and sorts. Every server first gets the same warm-up (connections open, code paths warm).

The baseline is a third process of this file (`--serve-hello PORT`): one aiohttp app without
middlewares answering every GET with a small constant JSON body, driven with the same plan at
the same rate. Goals (issue 17): the cached p99 within 1.5x the baseline's and under 2 ms;
the uncached p99 within 2x the cached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from aiohttp import web

from devstack.control import running_settings
from streamcore.settings import Settings, load_settings

LIST_QUERIES = [
    "",
    "sort=-rating",
    "sort=-year&limit=50",
    "genre=Drama",
    "genre=Comedy&sort=-rating",
    "genre=Science%20Fiction&sort=title",
    "year=1999",
    "year=2015&sort=-rating",
    "q=night",
    "q=golden&sort=-year",
    "genre=Thriller&year=2010",
    "genre=Animation&limit=10",
]
REPO = Path(__file__).resolve().parents[1]
TARGET_P99_MS = 2.0
TARGET_OVER_BASELINE = 1.5
TARGET_UNCACHED_OVER_CACHED = 2.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def api_process(settings: Settings, port: int, *, cache: bool) -> Iterator[str]:
    env = {
        **os.environ,
        "STREAMCORE_ENV": settings.env,
        "STREAMCORE_STACK__DATA_DIR": str(settings.stack.data_dir),
        "STREAMCORE_STACK__POSTGRES_REPLICAS": str(settings.stack.postgres_replicas),
        "STREAMCORE_CATALOG_API__PORT": str(port),
        # Its CPU agent too: the stack's catalog instance holds the configured one.
        "STREAMCORE_CATALOG_API__AGENT_PORT": str(_free_port()),
        "STREAMCORE_CACHE__ENABLED": "true" if cache else "false",
        "STREAMCORE_LOG_LEVEL": "WARNING",
        # One address sending 200 reads a second is far over an anonymous read budget (100 a
        # minute): the bench's loopback is exempt, as monitoring would be. The limiter's own
        # cost per request is bench/ratelimit.py's measurement, not this one's.
        "STREAMCORE_RATELIMIT__EXEMPT_NETWORKS": '["127.0.0.0/8", "::1/128"]',
    }
    with _serving(subprocess.Popen([sys.executable, "-m", "catalog_api"], env=env), port) as base:
        yield base


@contextmanager
def hello_process(port: int) -> Iterator[str]:
    argv = [sys.executable, "-m", "bench.catalog", "--serve-hello", str(port)]
    with _serving(subprocess.Popen(argv, cwd=REPO), port) as base:
        yield base


@contextmanager
def _serving(process: subprocess.Popen[bytes], port: int) -> Iterator[str]:
    """The base URL of a server process once it answers; the process is stopped after."""
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def serve_hello(port: int) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"hello": "world"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", hello)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the catalog API on {base} exited with {process.returncode}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the catalog API on {base} did not become ready")


async def _title_ids(base: str, count: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    async with aiohttp.ClientSession() as session:
        while len(ids) < count:
            params = {"limit": "100", "sort": "title"}
            if cursor:
                params["cursor"] = cursor
            async with session.get(f"{base}/v1/titles", params=params) as response:
                response.raise_for_status()
                page = await response.json()
            ids += [item["id"] for item in page["items"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
    if not ids:
        raise SystemExit("the catalog is empty: import one first (see this file's docstring)")
    return ids[:count]


def request_plan(ids: list[str], total: int, seed: int) -> list[tuple[str, str]]:
    """(endpoint, path) pairs: 70% single titles, Zipf-like over `ids`; 30% list pages."""
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    plan = []
    for _ in range(total):
        if rng.random() < 0.7:
            plan.append(("title", f"/v1/titles/{rng.choices(ids, weights)[0]}"))
        else:
            query = rng.choice(LIST_QUERIES)
            plan.append(("list", f"/v1/titles{'?' + query if query else ''}"))
    return plan


@dataclass
class Run:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"title": [], "list": []})
    errors: int = 0
    late_starts: int = 0


async def drive(base: str, plan: list[tuple[str, str]], rate: float) -> Run:
    """Send plan[i] at start + i / rate; latency counts from that due time."""
    run = Run()
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(base, connector=connector) as session:

        async def one(endpoint: str, path: str, due: float) -> None:
            try:
                async with session.get(path) as response:
                    await response.read()
                    if response.status != 200:
                        run.errors += 1
                        return
            except aiohttp.ClientError:
                run.errors += 1
                return
            run.latencies[endpoint].append(time.perf_counter() - due)

        start = time.perf_counter() + 0.1
        tasks = []
        for i, (endpoint, path) in enumerate(plan):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.005:
                run.late_starts += 1
            tasks.append(asyncio.create_task(one(endpoint, path, due)))
        await asyncio.gather(*tasks)
    return run


_SAMPLE = re.compile(r"^cache_requests_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.M)


async def cache_counts(base: str) -> dict[tuple[str, str], float]:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/metrics") as response:
        text = await response.text()
    counts = {}
    for match in _SAMPLE.finditer(text):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
        counts[(labels.get("tier", ""), labels.get("result", ""))] = float(match["value"])
    return counts


def hit_ratio(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> float:
    """Answers from the LRU or Redis, over every lookup (each lookup starts at the LRU)."""

    def delta(tier: str, result: str) -> float:
        return after.get((tier, result), 0.0) - before.get((tier, result), 0.0)

    lookups = delta("local", "hit") + delta("local", "miss")
    hits = delta("local", "hit") + delta("redis", "hit")
    return hits / lookups if lookups else 0.0


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(name: str, run: Run, seconds: float) -> dict[str, float]:
    everything = run.latencies["title"] + run.latencies["list"]
    print(
        f"{name:<9} {len(everything) / seconds:7.0f} req/s  errors {run.errors}"
        f"  late starts {run.late_starts}"
    )
    for endpoint in ("title", "list", "all"):
        values = everything if endpoint == "all" else run.latencies[endpoint]
        print(
            f"  {endpoint:<6} n={len(values):<6} p50 {_ms(values, 0.5):7.2f} ms"
            f"  p99 {_ms(values, 0.99):7.2f} ms  max {_ms(values, 1.0):7.2f} ms"
            f"  mean {statistics.fmean(values) * 1000 if values else float('nan'):7.2f} ms"
        )
    return {"p50": _ms(everything, 0.5), "p99": _ms(everything, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--hot", type=int, default=2000, help="titles requested (Zipf-like)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--serve-hello", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_hello:
        serve_hello(args.serve_hello)
    else:
        asyncio.run(measure(args))


async def measure(args: argparse.Namespace) -> None:
    settings = running_settings(load_settings())
    total = int(args.rate * args.seconds)
    results = {}
    with (
        api_process(settings, _free_port(), cache=True) as cached,
        api_process(settings, _free_port(), cache=False) as uncached,
        hello_process(_free_port()) as hello,
    ):
        ids = await _title_ids(cached, args.hot)
        plan = request_plan(ids, total, args.seed)
        # The same requests once before: every key measured is then in the cache (what
        # "cached" means here), and the database's own buffers are as warm for the other run.
        warmup = plan
        print(f"{len(ids)} titles, {total} requests at {args.rate:g}/s per server\n")
        for base in (hello, cached, uncached):
            await drive(base, warmup, args.rate)
        results["hello"] = report("hello", await drive(hello, plan, args.rate), args.seconds)
        print()
        before = await cache_counts(cached)
        results["cache"] = report("cache", await drive(cached, plan, args.rate), args.seconds)
        ratio = hit_ratio(before, await cache_counts(cached))
        print(f"  cache hit ratio {ratio:.1%}\n")
        results["no cache"] = report(
            "no cache", await drive(uncached, plan, args.rate), args.seconds
        )
    hello_p99 = results["hello"]["p99"]
    cached_p99, uncached_p99 = results["cache"]["p99"], results["no cache"]["p99"]
    checks = [
        (f"cached p99 {cached_p99:.2f} ms < {TARGET_P99_MS:g} ms", cached_p99 < TARGET_P99_MS),
        (f"cached p99 / hello p99 = {cached_p99 / hello_p99:.2f}x <= {TARGET_OVER_BASELINE:g}x",
         cached_p99 / hello_p99 <= TARGET_OVER_BASELINE),
        (f"uncached p99 / cached p99 = {uncached_p99 / cached_p99:.2f}x"
         f" <= {TARGET_UNCACHED_OVER_CACHED:g}x",
         uncached_p99 / cached_p99 <= TARGET_UNCACHED_OVER_CACHED),
    ]  # fmt: skip
    print()
    for text, met in checks:
        print(f"{text}: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
