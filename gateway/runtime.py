"""An asyncio client of HAProxy's runtime API (the admin stats socket), typed.

One command per connection: HAProxy answers and closes, so there is no session to keep and
nothing to resynchronise after an error. `servers()` joins ``show servers state`` (addresses,
ports, admin and operational states, as numbers) with ``show stat`` (check status, weight,
current sessions); the helpers below are what the registrar and the CLI do to a slot.

HAProxy reports failures as text on an otherwise silent answer ("No such server.", "Invalid
addr ..."), and its severity prefixes do not tell errors from information, so each command
says what a success looks like and anything else becomes a `RuntimeApiError`.
"""

from __future__ import annotations

import asyncio
import csv
import enum
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from gateway.paths import gateway_paths
from gateway.slots import UNASSIGNED_ADDR, UNASSIGNED_PORT
from streamcore.settings import Settings

T = TypeVar("T")

# show servers state's srv_admin_state bits (doc/management.txt, "show servers state"):
# FMAINT | IMAINT | RMAINT put a server in maintenance, FDRAIN | IDRAIN drain it. CMAINT
# (0x04, "disabled" in the config) stays set after leaving maintenance and means nothing then.
_MAINT_MASK = 0x23
_DRAIN_MASK = 0x18
# set server ... addr answers with one of these on success (src/server.c).
_ADDR_CHANGED = ("IP changed", "no need to change")


class RuntimeApiError(Exception):
    """HAProxy refused a command; the message holds the command and HAProxy's answer."""


class RuntimeApiUnreachable(RuntimeApiError):
    """The stats socket did not answer (HAProxy down, reloading, or not started yet)."""


class AdminState(enum.StrEnum):
    READY = "ready"
    DRAIN = "drain"
    MAINT = "maint"

    @classmethod
    def from_bits(cls, bits: int) -> AdminState:
        if bits & _MAINT_MASK:
            return cls.MAINT
        if bits & _DRAIN_MASK:
            return cls.DRAIN
        return cls.READY


class OpState(enum.StrEnum):
    """srv_op_state: 0 stopped, 1 starting (slow start), 2 running, 3 stopping."""

    DOWN = "down"
    STARTING = "starting"
    UP = "up"
    STOPPING = "stopping"

    @classmethod
    def from_code(cls, code: int) -> OpState:
        return (cls.DOWN, cls.STARTING, cls.UP, cls.STOPPING)[code]


@dataclass(frozen=True)
class Server:
    """One slot of a backend, as HAProxy sees it now."""

    backend: str
    slot: str
    slot_id: int
    addr: str
    port: int
    agent_port: int
    admin: AdminState
    operational: OpState
    weight: int  # current effective weight (the agent's percentage applied)
    sessions: int  # requests in flight (scur)
    status: str  # show stat's own words: "UP", "DOWN", "MAINT", "DRAIN", "UP 1/3", ...
    check_status: str  # last health check: "L7OK", "L4CON", "L4TOUT", "INI", "" in maint
    agent_status: str  # last agent check

    @property
    def free(self) -> bool:
        """Not assigned to any instance: at the placeholder address, in maintenance."""
        return (
            self.addr in (UNASSIGNED_ADDR, "-")
            and self.port == UNASSIGNED_PORT
            and self.admin is AdminState.MAINT
        )

    @property
    def down(self) -> bool:
        return self.operational is OpState.DOWN

    @property
    def in_rotation(self) -> bool:
        """Taking new requests: up by its checks, and neither drained nor in maintenance."""
        return self.operational is OpState.UP and self.admin is AdminState.READY

    @property
    def endpoint(self) -> tuple[str, int]:
        return self.addr, self.port


class RuntimeApi:
    """The runtime API at a Unix socket path, or at (host, port) for a TCP stats socket."""

    def __init__(self, address: Path | tuple[str, int], timeout_s: float = 5.0) -> None:
        self.address = address
        self.timeout_s = timeout_s

    async def command(self, line: str) -> str:
        """Send one command, return HAProxy's whole answer."""
        try:
            return await asyncio.wait_for(self._exchange(line), self.timeout_s)
        except (OSError, TimeoutError) as exc:
            raise RuntimeApiUnreachable(f"{self.address}: {exc or type(exc).__name__}") from exc

    async def _exchange(self, line: str) -> str:
        if isinstance(self.address, Path):
            reader, writer = await asyncio.open_unix_connection(self.address)
        else:
            reader, writer = await asyncio.open_connection(*self.address)
        try:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            return (await reader.read()).decode(errors="replace")
        finally:
            writer.close()

    async def silent(self, line: str) -> None:
        """A command that answers nothing on success."""
        answer = (await self.command(line)).strip()
        if answer:
            raise RuntimeApiError(f"{line!r}: {answer}")

    async def servers(self, backend: str | None = None) -> list[Server]:
        """Every server slot (of one backend, or all), sorted by backend and slot id."""
        scope = f" {backend}" if backend else ""
        states = parse_servers_state(await self.command(f"show servers state{scope}"))
        if backend and not states:
            raise RuntimeApiError(f"no backend {backend!r}")
        stats = parse_stat(await self.command("show stat -1 4 -1"))
        return [_join(row, stats.get((row["be_name"], row["srv_name"]), {})) for row in states]

    async def server(self, backend: str, slot: str) -> Server:
        for server in await self.servers(backend):
            if server.slot == slot:
                return server
        raise RuntimeApiError(f"no server {backend}/{slot}")

    async def assign(self, backend: str, slot: str, host: str, port: int, agent_port: int) -> None:
        """Point a slot at an instance; it joins the rotation once its health checks pass.

        Safe to repeat: every step sets a value, none toggles one.
        """
        target = f"{backend}/{slot}"
        await self._set_addr(target, host, port)
        # A released slot's agent is disabled, and HAProxy refuses an agent port for a server
        # whose agent is off: enable it first.
        await self.silent(f"enable agent {target}")
        await self.silent(f"set server {target} agent-port {agent_port}")
        # Whatever an earlier instance's agent left, this one starts at full weight.
        await self.silent(f"set server {target} weight 100%")
        await self.silent(f"enable health {target}")
        await self.admit(backend, slot)

    async def admit(self, backend: str, slot: str) -> None:
        """Out of maintenance, but in rotation only after `rise` health checks pass.

        Leaving maintenance, HAProxy takes a server for up before checking it ("start OK but
        check immediately", src/server.c), and the first check only comes at the next tick of
        its `inter` timer, up to 10 s later: an instance that is not serving yet would get
        traffic until then. Marking its health down in the same command line (the commands
        of one line run back to back) keeps it out until its checks say otherwise.
        """
        target = f"{backend}/{slot}"
        await self.silent(f"set server {target} state ready; set server {target} health down")

    async def release(self, backend: str, slot: str) -> None:
        """Take a slot out and back to the placeholder: free for the next instance."""
        target = f"{backend}/{slot}"
        await self.silent(f"set server {target} state maint")
        await self._set_addr(target, UNASSIGNED_ADDR, UNASSIGNED_PORT)
        await self.silent(f"set server {target} agent-port {UNASSIGNED_PORT}")
        # Agent checks, unlike health checks, go on in maintenance: no point asking port 1.
        await self.silent(f"disable agent {target}")

    async def _set_addr(self, target: str, host: str, port: int) -> None:
        line = f"set server {target} addr {host} port {port}"
        answer = (await self.command(line)).strip()
        if not answer.startswith(_ADDR_CHANGED):
            raise RuntimeApiError(f"{line!r}: {answer}")

    async def ready(self, backend: str, slot: str) -> None:
        await self.silent(f"set server {backend}/{slot} state ready")

    async def drain(self, backend: str, slot: str) -> None:
        """No new requests (in-flight ones finish); checks go on."""
        await self.silent(f"set server {backend}/{slot} state drain")

    async def sessions(self, backend: str, slot: str) -> int:
        return (await self.server(backend, slot)).sessions

    async def wait_drained(
        self, backend: str, slot: str, timeout_s: float, poll_s: float = 0.2
    ) -> bool:
        """Wait until a slot has no request in flight; False if timeout_s passes first."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while await self.sessions(backend, slot) > 0:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(poll_s)
        return True

    async def servers_state_text(self) -> str:
        """``show servers state`` verbatim: the server-state file's format."""
        text = await self.command("show servers state")
        if not text.startswith("1\n"):
            raise RuntimeApiError(f"show servers state: unexpected answer {text[:200]!r}")
        return text


def for_settings(settings: Settings) -> RuntimeApi:
    """The client of the gateway's runtime API: `gateway.admin_socket` when set (an external
    HAProxy), else the stack's own HAProxy's socket under the data folder."""
    configured = settings.gateway.admin_socket
    if configured is None:
        return RuntimeApi(gateway_paths(settings).admin_socket)
    host, sep, port = configured.rpartition(":")
    if sep and port.isdigit() and not configured.startswith("/"):
        return RuntimeApi((host, int(port)))
    return RuntimeApi(Path(configured))


def run_sync(call: Coroutine[Any, Any, T]) -> T:
    """For the CLI: ``run_sync(for_settings(s).servers())``."""
    return asyncio.run(call)


def parse_servers_state(text: str) -> list[dict[str, str]]:
    """``show servers state`` (format version 1) as one dict per server, by column name."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "1":
        raise RuntimeApiError(f"show servers state: unknown format {text[:200]!r}")
    names: list[str] = []
    rows = []
    for line in lines[1:]:
        if line.startswith("#"):
            names = names or line.lstrip("# ").split()
        elif line.strip():
            rows.append(dict(zip(names, line.split(), strict=False)))
    return rows


def parse_stat(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """``show stat`` CSV as {(proxy, server): {field: value}}."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        raise RuntimeApiError(f"show stat: unknown format {text[:200]!r}")
    reader = csv.DictReader([lines[0][2:], *lines[1:]])
    return {(row["pxname"], row["svname"]): row for row in reader if row.get("pxname")}


def _join(state: dict[str, str], stat: dict[str, str]) -> Server:
    return Server(
        backend=state["be_name"],
        slot=state["srv_name"],
        slot_id=int(state["srv_id"]),
        addr=state["srv_addr"],
        port=int(state["srv_port"]),
        agent_port=int(state.get("srv_agent_port", "0")),
        admin=AdminState.from_bits(int(state["srv_admin_state"])),
        operational=OpState.from_code(int(state["srv_op_state"])),
        weight=int(stat.get("weight") or state["srv_uweight"]),
        sessions=int(stat.get("scur") or 0),
        status=stat.get("status", ""),
        check_status=stat.get("check_status", ""),
        agent_status=stat.get("agent_status", ""),
    )
