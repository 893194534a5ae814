"""Memory of the catalog API while it receives a large upload.

Needs a running stack (`streamcore up --detach`). Streams SIZE bytes (default 1 GiB, generated
on the fly, never held in memory here) to POST /v1/assets and samples the API process' RSS
every 20 ms; the baseline is the same measurement for a 16 MiB upload in the same run.

    .venv/bin/python bench/upload_memory.py [--size-mb 1024]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Iterator

import httpx
import psutil

from devstack import control
from streamcore.settings import load_settings

CHUNK = 1024 * 1024


def _body(size: int) -> Iterator[bytes]:
    block = os.urandom(CHUNK)
    sent = 0
    while sent < size:
        piece = block[: min(CHUNK, size - sent)]
        sent += len(piece)
        yield piece


def _measure(url: str, key: str, pid: int, size: int) -> tuple[float, float, str]:
    """Upload `size` bytes; return (peak RSS growth in MiB, MiB/s, asset id)."""
    process = psutil.Process(pid)
    start_rss = process.memory_info().rss
    peak = start_rss
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        response = httpx.post(
            f"{url}/v1/assets",
            content=_body(size),
            headers={
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/octet-stream",
                "Content-Length": str(size),
                "X-Filename": "bench.bin",
            },
            timeout=httpx.Timeout(None, connect=5),
        )
    finally:
        done.set()
        sampler.join()
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    asset_id = response.json()["id"]
    httpx.delete(f"{url}/v1/assets/{asset_id}", headers={"Authorization": f"Bearer {key}"})
    return (peak - start_rss) / 2**20, size / 2**20 / elapsed, asset_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024)
    args = parser.parse_args()
    settings = load_settings()
    api = next(s for s in control.status(settings).services if s.name == "catalog-api")
    if api.state != "healthy" or api.pid is None:
        raise SystemExit("the stack's catalog API is not running: `streamcore up --detach` first")
    key = settings.auth.service_key().get_secret_value()
    base_growth, base_rate, _ = _measure(settings.catalog_api.url, key, api.pid, 16 * 2**20)
    growth, rate, _ = _measure(settings.catalog_api.url, key, api.pid, args.size_mb * 2**20)
    print(f"baseline 16 MiB upload: RSS growth {base_growth:6.1f} MiB, {base_rate:7.1f} MiB/s")
    print(f"{args.size_mb} MiB upload:      RSS growth {growth:6.1f} MiB, {rate:7.1f} MiB/s")
    print(f"growth ratio (large/baseline): {growth / max(base_growth, 0.1):.2f}x "
          f"for {args.size_mb / 16:.0f}x the bytes; target: growth < 100 MiB")  # fmt: skip


if __name__ == "__main__":
    main()
