"""Signed segment GETs through our origin against plain static file serving of the same files.

Needs a running stack (`streamcore up --detach`). Publishes SEGMENTS files of SIZE bytes to the
media bucket and to a local folder, then, from this process, drives each target at a fixed
concurrency for a fixed time on loopback, one after the other:

- raw object-store GETs: aiobotocore `get_object` of the same objects from this process, no
  HTTP serving at all (the ceiling for a cold origin);
- our origin, cold: a process started by the bench (`create_app`, the stack's settings) whose
  disk cache holds only CACHED_SEGMENTS segments, so that cycling through all of them misses
  every time (token check, storage read into the cache, eviction, sendfile);
- our origin, warm: another such process with the default bound, after a warm-up round (token
  check, sendfile from its disk cache);
- the stack's local edge, warm (its hits: the token check and bytes from memory);
- aiohttp's own static file handler, in a separate process (the baseline);
- nginx serving the same folder, if `nginx` is on PATH (Debian: `apt-get install -y nginx`;
  without it the row is left out).

It prints requests/s, p50 and p99 latency, and the ratios to the baseline and to the raw
GETs, measured in the same run (these machines are noisy: compare ratios, not absolute
numbers). Goals (issue 17): warm >= 0.8x aiohttp static, cold >= 0.9x raw object-store GETs.

    .venv/bin/python bench/origin.py [--seconds 10] [--concurrency 16] [--size-kb 512]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import aiohttp

from streamcore import signing
from streamcore.settings import Settings, load_settings, local_edges
from streamcore.storage.s3 import open_storage

CACHED_SEGMENTS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _publish(
    settings: Settings, folder: Path, count: int, size: int
) -> tuple[str, list[str]]:
    asset = uuid.uuid4()
    prefix = f"assets/{asset}/v1/video/720p/"
    names = [f"seg_{i:05d}.m4s" for i in range(1, count + 1)]
    (folder / prefix).mkdir(parents=True, mode=0o755)
    for parent in (folder / prefix).parents:
        if parent.is_relative_to(folder):
            parent.chmod(0o755)
    async with open_storage(settings) as storage:
        for name in names:
            data = os.urandom(size)
            (folder / prefix / name).write_bytes(data)
            await storage.put_bytes(
                settings.s3.media_bucket, prefix + name, data, content_type="video/iso.segment"
            )
    return f"/assets/{asset}/", [f"/{prefix}{name}" for name in names]


def _summary(latencies: list[float], seconds: float) -> tuple[float, float, float]:
    if not latencies:  # nothing finished in time (a warm-up on a loaded machine)
        return 0.0, float("nan"), float("nan")
    latencies.sort()
    rps = len(latencies) / seconds
    return rps, latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99)] * 1000


async def _drive_storage(
    settings: Settings, keys: list[str], seconds: float, concurrency: int
) -> tuple[float, float, float]:
    """Plain GETs of the objects from the store, read whole: what a cold origin waits for."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with open_storage(settings) as storage:

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await storage.get_bytes(settings.s3.media_bucket, keys[i % len(keys)])
                latencies.append(time.perf_counter() - started)
                i += concurrency

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return _summary(latencies, seconds)


async def _drive(urls: list[str], seconds: float, concurrency: int) -> tuple[float, float, float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(offset: int) -> None:
            i = offset
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(urls[i % len(urls)]) as response:
                    await response.read()
                    assert response.status == 200, (response.status, response.url)
                latencies.append(time.perf_counter() - started)
                i += concurrency

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return _summary(latencies, seconds)


def _start_static(folder: Path, port: int) -> subprocess.Popen[bytes]:
    code = textwrap.dedent(f"""
        from aiohttp import web
        app = web.Application()
        app.router.add_static("/", {str(folder)!r})
        web.run_app(app, host="127.0.0.1", port={port}, access_log=None, print=None)
    """)
    return subprocess.Popen([sys.executable, "-c", code])


def _start_origin(port: int, disk_cache_bytes: int, cache_dir: Path) -> subprocess.Popen[bytes]:
    """An origin process of our own (the stack's settings, no registry lease: the gateway
    never sends it traffic), with the disk cache bounded as asked."""
    code = textwrap.dedent(f"""
        from aiohttp import web
        from origin.app import create_app
        from streamcore.settings import load_settings
        web.run_app(create_app(load_settings()), host="127.0.0.1", port={port},
                    access_log=None, print=None)
    """)
    env = {
        **os.environ,
        "STREAMCORE_ORIGIN__DISK_CACHE_BYTES": str(disk_cache_bytes),
        "STREAMCORE_ORIGIN__DISK_CACHE_DIR": str(cache_dir),
        # One address fetching a thousand segments a second is far over a client's media
        # budget: the bench's loopback is exempt, as in bench/catalog.py. The limiter's own
        # cost per request is bench/ratelimit.py's measurement, not this one's.
        "STREAMCORE_RATELIMIT__EXEMPT_NETWORKS": '["127.0.0.0/8", "::1/128"]',
    }
    return subprocess.Popen([sys.executable, "-c", code], env=env)


async def _wait_live(base: str) -> None:
    """Until the origin's disk cache serves (its purge feed has started)."""
    for _ in range(100):
        async with aiohttp.ClientSession() as s, s.get(f"{base}/metrics") as r:
            if "origin_disk_cache_live 1.0" in await r.text():
                return
        await asyncio.sleep(0.1)
    raise SystemExit(f"{base}: the disk cache never went live")


def _start_nginx(folder: Path, port: int, work: Path) -> subprocess.Popen[bytes] | None:
    nginx = shutil.which("nginx")
    if nginx is None:
        return None
    conf = work / "nginx.conf"
    conf.write_text(
        textwrap.dedent(f"""
        daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;
        events {{ worker_connections 1024; }}
        http {{ access_log off; sendfile on;
          client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
          uwsgi_temp_path {work}; scgi_temp_path {work};
          server {{ listen 127.0.0.1:{port}; root {folder}; }} }}
    """)
    )
    return subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)])


def _folders(tmp: Path) -> tuple[Path, Path]:
    folder, work = tmp / "www", tmp / "work"
    folder.mkdir()
    work.mkdir()
    tmp.chmod(0o755)  # nginx's workers run as an unprivileged user
    return folder, work


async def _wait_up(url: str) -> None:
    for _ in range(100):
        try:
            async with aiohttp.ClientSession() as s, s.get(url) as r:
                if r.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


async def run(args: argparse.Namespace) -> None:
    settings = load_settings()
    origin = settings.origin
    assert origin.active_key_id is not None
    with tempfile.TemporaryDirectory() as tmp:
        folder, work = _folders(Path(tmp))
        scope, paths = await _publish(settings, folder, args.segments, args.size_kb * 1024)
        token = signing.sign(origin.signing_keys, origin.active_key_id, scope, ttl_s=3600)
        size = args.size_kb * 1024
        processes, targets, origins = [], {}, {}
        for name, bound in (
            ("origin cold (signed, S3)", CACHED_SEGMENTS * size),
            ("origin warm (signed, disk)", settings.origin.disk_cache_bytes),
        ):
            port = _free_port()
            processes.append(_start_origin(port, bound, work / f"cache-{port}"))
            origins[name] = base = f"http://127.0.0.1:{port}"
            targets[name] = [signing.path_url(base, token, p) for p in paths]
        for edge in local_edges(settings)[:1]:
            edge_urls = [signing.path_url(edge.url, token, p) for p in paths]
            targets["local edge warm (signed)"] = edge_urls
        static_port = _free_port()
        processes.append(_start_static(folder, static_port))
        targets["aiohttp static (baseline)"] = [f"http://127.0.0.1:{static_port}{p}" for p in paths]
        nginx_port = _free_port()
        if (nginx := _start_nginx(folder, nginx_port, work)) is not None:
            processes.append(nginx)
            targets["nginx static"] = [f"http://127.0.0.1:{nginx_port}{p}" for p in paths]
        try:
            keys = [p.removeprefix("/") for p in paths]
            await _drive_storage(settings, keys, 1.0, args.concurrency)  # warm up
            results = {"object store GETs (raw)": await _drive_storage(
                settings, keys, args.seconds, args.concurrency
            )}  # fmt: skip
            for name, urls in targets.items():
                await _wait_up(urls[0])
                if name in origins:
                    await _wait_live(origins[name])
                await _drive(urls, 1.0, args.concurrency)  # warm up
                results[name] = await _drive(urls, args.seconds, args.concurrency)
                if name in origins:
                    async with aiohttp.ClientSession() as s, s.get(f"{origins[name]}/metrics") as r:
                        metrics = await r.text()
                    print(name, *(line for line in metrics.splitlines()
                                  if line.startswith(("origin_disk_cache_hits ",
                                                      "origin_disk_cache_misses "))))  # fmt: skip
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=10)
    base, raw = results["aiohttp static (baseline)"], results["object store GETs (raw)"]
    print(f"{args.segments} segments of {args.size_kb} KiB, concurrency {args.concurrency}, "
          f"{args.seconds:.0f} s each, loopback")  # fmt: skip
    header = ("target", "req/s", "p50 ms", "p99 ms", "/ static", "p99 / static", "/ raw GETs")
    print("{:28} {:>9} {:>8} {:>8} {:>9} {:>13} {:>11}".format(*header))
    for name, (rps, p50, p99) in results.items():
        ratios = f"{rps / base[0]:9.2f} {p99 / base[2]:13.2f} {rps / raw[0]:11.2f}"
        print(f"{name:28} {rps:9.1f} {p50:8.2f} {p99:8.2f} {ratios}")
    warm = results["origin warm (signed, disk)"][0] / base[0]
    cold = results["origin cold (signed, S3)"][0] / raw[0]
    print(
        f"goals: warm {warm:.2f}x static (>= 0.8: {'met' if warm >= 0.8 else 'MISSED'}), "
        f"cold {cold:.2f}x raw GETs (>= 0.9: {'met' if cold >= 0.9 else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--segments", type=int, default=40)
    parser.add_argument("--size-kb", type=int, default=512)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
