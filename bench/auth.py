"""What authentication costs, each figure against a baseline measured in the same run.

Needs a running stack (`streamcore up --detach`) with the auth service. From this process, at a
fixed concurrency for a fixed time on loopback:

1. token verification per request: one trivial endpoint in two aiohttp apps served by a child
   process, one with the kernel's middlewares (`authentication` verifying the Ed25519 JWT
   locally, then `authorization` looking the route up in its table), one without (the
   baseline); the same request with the same bearer token to both. Throughput ratio, and the
   server-side time per request (a timing middleware outermost in both apps), whose difference
   is what the middlewares cost;
2. sign-in throughput: POST /v1/auth/login through the gateway (each one an Argon2id
   verification, off the event loop behind `auth.hash_concurrency`), against a cheap request to
   the same service through the gateway (GET /.well-known/jwks.json) at the same concurrency,
   and against the ceiling the hash alone allows (hash_concurrency x instances / one hash);
3. the auth service's event loop under 20 concurrent sign-ins: one GET /.well-known/jwks.json
   after another, straight to auth-1, idle (the baseline) and while 20 clients sign in without
   pause: p50 and p99 of that cheap request, whose growth is the loop's lag.

Sign-ins use accounts made for the run (bench-<run>-<n>@example.com, through the admin API);
their device sessions are signed out at the end. These machines are noisy: compare ratios.

    .venv/bin/python bench/auth.py [--seconds 10] [--concurrency 16] [--logins 20]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
from aiohttp import web
from argon2 import PasswordHasher, Type

_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

from devstack.run_state import running_settings  # noqa: E402
from streamcore.auth import tokens  # noqa: E402
from streamcore.auth.jwks import LocalKeys  # noqa: E402
from streamcore.auth.middleware import authentication, authorization, local_keys  # noqa: E402
from streamcore.auth.roles import Permission, Role  # noqa: E402
from streamcore.settings import Settings, load_settings  # noqa: E402
from streamcore.web.service import SETTINGS_KEY, Handler, json_errors  # noqa: E402

PASSWORD = secrets.token_urlsafe(16)  # the run's accounts' password
PING = "/v1/ping"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


# -- 1. the middlewares, in a child process ---------------------------------------------------


def _timed_app(settings: Settings, with_auth: bool) -> web.Application:
    durations: list[float] = []

    @web.middleware
    async def timing(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            return await handler(request)
        finally:
            if request.path == PING:
                durations.append(time.perf_counter() - started)

    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        body = {
            "count": len(durations), "mean_us": statistics.fmean(durations or [0.0]) * 1e6,
            "p50_us": _percentile(durations, 0.5) * 1e6,
            "p99_us": _percentile(durations, 0.99) * 1e6,
        }  # fmt: skip
        durations.clear()
        return web.json_response(body)

    table = {f"GET {PING}": Permission.PLAY, "GET /stats": Permission.PUBLIC}
    chain = [timing, json_errors] + ([authentication, authorization(table)] if with_auth else [])
    app = web.Application(middlewares=chain)
    app[SETTINGS_KEY] = settings
    local_keys(app)
    app.router.add_get(PING, ping)
    app.router.add_get("/stats", stats)
    return app


async def _serve(plain_port: int, auth_port: int) -> None:
    settings = running_settings(load_settings())
    runners = []
    for port, with_auth in ((plain_port, False), (auth_port, True)):
        runner = web.AppRunner(_timed_app(settings, with_auth), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    print("ready", flush=True)
    await asyncio.Event().wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Request = Callable[[aiohttp.ClientSession], Awaitable[None]]


async def drive(request: Request, seconds: float, concurrency: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency (ms) of `concurrency` clients looping on `request`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await request(session)
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (len(latencies) / seconds, _percentile(latencies, 0.5) * 1000,
            _percentile(latencies, 0.99) * 1000)  # fmt: skip


def _get(url: str, headers: dict[str, str] | None = None) -> Request:
    async def request(session: aiohttp.ClientSession) -> None:
        async with session.get(url, headers=headers) as response:
            await response.read()
            assert response.status == 200, (url, response.status)

    return request


async def _server_stats(port: int) -> dict[str, float]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}/stats") as response,
    ):
        stats: dict[str, float] = await response.json()
        return stats


async def _verify_us(settings: Settings, token: str, rounds: int = 2000) -> float:
    """The kernel's verification of one token (signature and claims), without HTTP (us)."""
    keys = await LocalKeys(settings).keys()
    started = time.perf_counter()
    for _ in range(rounds):
        tokens.verify(token, keys, settings.auth)
    return (time.perf_counter() - started) / rounds * 1e6


@contextmanager
def _middleware_apps() -> Iterator[tuple[int, int]]:
    """The child process serving both apps: (port without, port with the middlewares)."""
    plain_port, auth_port = _free_port(), _free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(plain_port), str(auth_port)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield plain_port, auth_port
    finally:
        server.terminate()
        server.wait(timeout=10)


async def verification(
    settings: Settings, args: argparse.Namespace, ports: tuple[int, int]
) -> None:
    token, _ = tokens.mint(
        settings.auth, account_id=uuid.uuid4(), session_id=uuid.uuid4(), role=Role.VIEWER,
        profile_id=uuid.uuid4(), maturity="adult", tier="standard",
    )  # fmt: skip
    bearer = {"Authorization": f"Bearer {token}"}
    results = {}
    for name, port in zip(("without", "with"), ports, strict=True):
        request = _get(f"http://127.0.0.1:{port}{PING}", bearer)
        await drive(request, 1.0, args.concurrency)  # warm up
        await _server_stats(port)
        results[name] = (await drive(request, args.seconds, args.concurrency),
                         await _server_stats(port))  # fmt: skip
    print(f"1. token verification: GET {PING} with a bearer token, concurrency "
          f"{args.concurrency}, {args.seconds:.0f} s each")  # fmt: skip
    for name, ((rate, p50, p99), stats) in results.items():
        print(f"  {name:>7} the auth middlewares {rate:8.0f} req/s  p50 {p50:6.2f} ms  "
              f"p99 {p99:6.2f} ms  server {stats['mean_us']:6.1f} us/request")  # fmt: skip
    (rate_without, _, _), without = results["without"]
    (rate_with, _, _), with_ = results["with"]
    alone = await _verify_us(settings, token)
    print(f"  one tokens.verify() alone, in this process: {alone:.1f} us")
    print(f"  ratio {rate_with / rate_without:.2f}x throughput; the middlewares add "
          f"{with_['mean_us'] - without['mean_us']:.1f} us per request (server side, mean; "
          f"p50 {with_['p50_us'] - without['p50_us']:+.1f} us)")  # fmt: skip


# -- 2. and 3. sign-ins through the real service ------------------------------------------------


async def _accounts(settings: Settings, count: int) -> list[str]:
    run = uuid.uuid4().hex[:8]
    key = settings.auth.service_key().get_secret_value()
    emails = [f"bench-{run}-{n}@example.com" for n in range(count)]
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
        for email in emails:
            body = {"email": email, "role": "viewer", "password": PASSWORD}
            async with session.post(
                f"{settings.gateway.entry_url}/v1/admin/accounts", json=body
            ) as response:
                assert response.status == 201, await response.text()
    return emails


class Logins:
    """Workers that each sign one account in, again and again; the tokens kept for sign-out."""

    def __init__(self, base: str, emails: list[str]) -> None:
        self.url = f"{base}/v1/auth/login"
        self.emails = emails
        self.next = 0
        self.tokens: list[str] = []

    async def __call__(self, session: aiohttp.ClientSession) -> None:
        email = self.emails[self.next % len(self.emails)]
        self.next += 1
        body = {"email": email, "password": PASSWORD, "device_name": "bench/auth.py"}
        async with session.post(self.url, json=body) as response:
            assert response.status == 200, await response.text()
            self.tokens.append((await response.json())["access_token"])

    async def sign_out(self, base: str) -> None:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16)) as session:

            async def one(token: str) -> None:
                headers = {"Authorization": f"Bearer {token}"}
                async with session.post(f"{base}/v1/auth/logout", headers=headers) as response:
                    await response.read()

            await asyncio.gather(*(one(token) for token in self.tokens))


def _hash_ms(settings: Settings) -> float:
    """One Argon2id verification with the service's parameters, in this process (ms)."""
    section = settings.auth
    hasher = PasswordHasher(
        time_cost=section.argon2_time_cost, memory_cost=section.argon2_memory_kib,
        parallelism=section.argon2_parallelism, type=Type.ID,
    )  # fmt: skip
    stored = hasher.hash(PASSWORD)
    started = time.perf_counter()
    for _ in range(10):
        hasher.verify(stored, PASSWORD)
    return (time.perf_counter() - started) * 100


async def throughput(settings: Settings, args: argparse.Namespace, emails: list[str]) -> None:
    gateway = settings.gateway.entry_url
    cheap = await drive(_get(f"{gateway}/.well-known/jwks.json"), args.seconds, args.concurrency)
    logins = Logins(gateway, emails)
    measured = await drive(logins, args.seconds, args.concurrency)
    await logins.sign_out(gateway)
    hash_ms = _hash_ms(settings)
    ceiling = settings.auth.hash_concurrency * settings.auth.instances * 1000 / hash_ms
    print(f"2. sign-ins through the gateway, concurrency {args.concurrency}, "
          f"{args.seconds:.0f} s each")  # fmt: skip
    for name, (rate, p50, p99) in (("GET jwks.json", cheap), ("POST login", measured)):
        print(f"  {name:<14} {rate:8.1f} req/s  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    print(
        f"  one Argon2id verification {hash_ms:.1f} ms here: ceiling {ceiling:.1f} logins/s "
        f"({settings.auth.hash_concurrency} at once x {settings.auth.instances} instance(s))"
    )
    print(f"  ratio {measured[0] / ceiling:.2f}x of the hashing ceiling, "
          f"{measured[0] / cheap[0]:.3f}x the cheap request's throughput")  # fmt: skip


async def _probe(url: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.01)
    return latencies


async def loop_lag(settings: Settings, args: argparse.Namespace, emails: list[str]) -> None:
    probe = f"{settings.auth.url}/.well-known/jwks.json"  # auth-1 itself, not the gateway
    idle = await _probe(probe, args.seconds)
    logins = Logins(settings.gateway.entry_url, emails)
    load = asyncio.ensure_future(drive(logins, args.seconds, args.logins))
    loaded = await _probe(probe, args.seconds)
    rate = (await load)[0]
    await logins.sign_out(settings.gateway.entry_url)
    print(f"3. the auth service's event loop: GET /.well-known/jwks.json on auth-1, one at a "
          f"time, {args.seconds:.0f} s each")  # fmt: skip
    for name, values in (("idle", idle), (f"{args.logins} signing in", loaded)):
        print(f"  {name:<14} p50 {_percentile(values, 0.5):6.2f} ms  "
              f"p99 {_percentile(values, 0.99):6.2f} ms  ({len(values)} probes)")  # fmt: skip
    idle_p99, loaded_p99 = _percentile(idle, 0.99), _percentile(loaded, 0.99)
    print(
        f"  meanwhile {rate:.1f} logins/s; p99 {loaded_p99 / idle_p99:.1f}x idle "
        f"({loaded_p99 - idle_p99:+.1f} ms)"
    )


async def sign_ins(settings: Settings, args: argparse.Namespace) -> None:
    emails = await _accounts(settings, max(args.concurrency, args.logins))
    await throughput(settings, args, emails)
    await loop_lag(settings, args, emails)


def main(args: argparse.Namespace) -> None:
    settings = running_settings(load_settings())
    with _middleware_apps() as ports:
        asyncio.run(verification(settings, args, ports))
    asyncio.run(sign_ins(settings, args))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:  # the child process of 1.
        asyncio.run(_serve(int(sys.argv[2]), int(sys.argv[3])))
    else:
        parser = argparse.ArgumentParser(description=__doc__)
        parser.add_argument("--seconds", type=float, default=10.0)
        parser.add_argument("--concurrency", type=int, default=16)
        parser.add_argument("--logins", type=int, default=20, help="concurrent sign-ins for 3.")
        main(parser.parse_args())
