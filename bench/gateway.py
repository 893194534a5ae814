"""The gateway's cost and what a second instance buys, measured in one run.

Needs a running stack (`streamcore up --detach`). From this process, at a fixed concurrency
for a fixed time on loopback:

1. the same read (GET /v1/titles?limit=20, answered from the catalog's cache) sent straight
   to catalog instance 1 (the baseline) and through the gateway (HAProxy) to that same single
   instance: throughput ratio and the latency HAProxy adds at p50 and p99;
2. a CPU-bound request (GET /diag/catalog/cpu?ms=N, diagnostics.enabled) through the gateway
   with one catalog instance (the baseline), then with two (`streamcore scale catalog 2`):
   the throughput ratio, which on a machine with two or more cores should approach 2.

These machines are noisy: compare the ratios, not the absolute numbers.

    .venv/bin/python bench/gateway.py [--seconds 10] [--concurrency 16] [--cpu-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp

# Run as a script, this file's folder comes first on sys.path, and this file's name would
# shadow the `gateway` package it measures (imported by devstack below).
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from devstack import scaling  # noqa: E402
from devstack.run_state import running_settings  # noqa: E402
from streamcore.settings import load_settings  # noqa: E402


async def drive(url: str, seconds: float, concurrency: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency (ms) of `concurrency` clients looping on `url`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.sort()
    return (
        len(latencies) / seconds,
        latencies[len(latencies) // 2] * 1000,
        latencies[int(len(latencies) * 0.99)] * 1000,
    )


def _measure(url: str, args: argparse.Namespace) -> tuple[float, float, float]:
    asyncio.run(drive(url, 1.0, args.concurrency))  # warm up: connections, caches
    return asyncio.run(drive(url, args.seconds, args.concurrency))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cpu-ms", type=int, default=20)
    args = parser.parse_args()
    settings = running_settings(load_settings())
    before = settings.catalog_api.instances
    gateway = settings.gateway.entry_url
    scaling.scale(settings, "catalog", 1)
    try:
        read = "/v1/titles?limit=20"
        direct = _measure(f"{settings.catalog_api.url}{read}", args)
        through = _measure(f"{gateway}{read}", args)
        print(f"read {read}, concurrency {args.concurrency}, {args.seconds:.0f} s each")
        print(f"  direct to catalog-1   {direct[0]:8.0f} req/s  p50 {direct[1]:6.1f} ms  "
              f"p99 {direct[2]:6.1f} ms")  # fmt: skip
        print(f"  through the gateway   {through[0]:8.0f} req/s  p50 {through[1]:6.1f} ms  "
              f"p99 {through[2]:6.1f} ms")  # fmt: skip
        print(
            f"  ratio {through[0] / direct[0]:.2f}x throughput; added p50 "
            f"{through[1] - direct[1]:+.1f} ms, p99 {through[2] - direct[2]:+.1f} ms"
        )
        cpu = f"{gateway}/diag/catalog/cpu?ms={args.cpu_ms}"
        one = _measure(cpu, args)
        scaling.scale(settings, "catalog", 2)
        two = _measure(cpu, args)
        print(f"CPU-bound GET (ms={args.cpu_ms}) through the gateway")
        print(f"  1 instance            {one[0]:8.1f} req/s  p50 {one[1]:6.1f} ms  "
              f"p99 {one[2]:6.1f} ms")  # fmt: skip
        print(f"  2 instances           {two[0]:8.1f} req/s  p50 {two[1]:6.1f} ms  "
              f"p99 {two[2]:6.1f} ms")  # fmt: skip
        print(f"  ratio {two[0] / one[0]:.2f}x throughput")
    finally:
        scaling.scale(settings, "catalog", before)


if __name__ == "__main__":
    main()
