"""The registrar's decision: what to change in HAProxy so that it serves the registered set.

`plan(registered, servers)` is a pure function of the registry's registrations (hosts
already resolved to addresses) and HAProxy's server slots; the registrar
(gateway/registrar.py) applies its actions. The rules:

- a registered instance with no slot gets a free one (the lowest-numbered);
- a registered instance whose slot is in maintenance is taken out of it (an assignment cut
  short, a slot restored in maintenance), to rejoin the rotation once its checks pass. A
  *drained* slot is left alone: draining is how an instance is being scaled down;
- a slot whose instance is no longer registered is released only once HAProxy agrees it is
  gone: the slot is down (its health checks failed), in maintenance, or drained with no
  request in flight. A healthy slot stays, registered or not: HAProxy's health checks are the
  authority for removal, the registry is for discovery (an instance whose lease lapsed while
  Redis restarted is still serving, and registers again within a heartbeat);
- a second slot pointing at an instance that already has one is drained, then released.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.runtime import AdminState, Server
from streamcore.registry import Registration


@dataclass(frozen=True)
class Assign:
    """Point `slot` at the instance and put it in rotation."""

    backend: str
    slot: str
    registration: Registration


@dataclass(frozen=True)
class Ready:
    backend: str
    slot: str
    reason: str


@dataclass(frozen=True)
class Drain:
    backend: str
    slot: str
    reason: str


@dataclass(frozen=True)
class Release:
    backend: str
    slot: str
    reason: str


@dataclass(frozen=True)
class Unplaced:
    """A registered instance that cannot be given a slot (nothing to do in HAProxy)."""

    registration: Registration
    reason: str


Action = Assign | Ready | Drain | Release | Unplaced
_ORDER = {Release: 0, Assign: 1, Ready: 2, Drain: 3, Unplaced: 4}


def plan(registered: Iterable[Registration], servers: Iterable[Server]) -> list[Action]:
    """The actions that bring `servers` in line with `registered` (empty when they agree)."""
    registered = sorted(registered, key=lambda r: (r.service, r.instance))
    slots: dict[str, list[Server]] = defaultdict(list)
    for server in sorted(servers, key=lambda s: (s.backend, s.slot_id)):
        slots[server.backend].append(server)
    claimed: set[tuple[str, str]] = set()
    actions: list[Action] = []
    for reg in registered:
        action = _place(reg, slots.get(reg.service), claimed)
        if action is not None:
            actions.append(action)
    for backend, backend_slots in slots.items():
        live = {(r.host, r.port) for r in registered if r.service == backend}
        for server in backend_slots:
            if not server.free and (backend, server.slot) not in claimed:
                actions.extend(_retire(server, duplicate=server.endpoint in live))
    return sorted(actions, key=lambda a: _ORDER[type(a)])


def _place(
    reg: Registration, slots: Sequence[Server] | None, claimed: set[tuple[str, str]]
) -> Action | None:
    if slots is None:
        return Unplaced(reg, f"the gateway has no backend {reg.service!r}")
    current = next((s for s in slots if not s.free and s.endpoint == (reg.host, reg.port)), None)
    if current is not None:
        claimed.add((current.backend, current.slot))
        if current.admin is AdminState.DRAIN:
            return None  # being scaled down: not ours to undo
        if current.agent_port != reg.agent_port:
            return Assign(current.backend, current.slot, reg)
        if current.admin is AdminState.MAINT:
            return Ready(current.backend, current.slot, "registered, but in maintenance")
        return None
    free = next((s for s in slots if s.free and (s.backend, s.slot) not in claimed), None)
    if free is None:
        return Unplaced(reg, f"all {len(slots)} slots of {reg.service} are taken")
    claimed.add((free.backend, free.slot))
    return Assign(free.backend, free.slot, reg)


def _retire(server: Server, *, duplicate: bool) -> list[Action]:
    """A slot no registration claims: release it once HAProxy agrees it is gone."""
    what = "a second slot for its instance" if duplicate else "no longer registered"
    if server.admin is AdminState.MAINT:
        return [Release(server.backend, server.slot, f"{what}, in maintenance")]
    if server.down:
        return [Release(server.backend, server.slot, f"{what}, and down")]
    if server.admin is AdminState.DRAIN:
        if server.sessions == 0:
            return [Release(server.backend, server.slot, f"{what}, drained")]
        return []
    if duplicate:
        return [Drain(server.backend, server.slot, what)]
    return []
