"""The registrar's decision, as tables of cases and as properties over any registry and slots.

A small model of HAProxy (`apply`) stands in for nothing real: plan() is pure, and the model
only lets the properties say "after the plan is applied".
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.plan import Action, Assign, Drain, Ready, Release, Unplaced, plan
from gateway.runtime import AdminState, OpState, Server
from gateway.slots import UNASSIGNED_ADDR, UNASSIGNED_PORT, slot_name
from streamcore.registry import Registration

HOST = "127.0.0.1"


def reg(service: str, instance: int) -> Registration:
    return Registration(service, instance, HOST, 9000 + instance, 9100 + instance, 1, 0.0)


def slot(
    backend: str,
    slot_id: int,
    owner: Registration | None = None,
    admin: AdminState = AdminState.READY,
    op: OpState = OpState.UP,
    sessions: int = 0,
) -> Server:
    if owner is None:
        addr, port, agent = UNASSIGNED_ADDR, UNASSIGNED_PORT, UNASSIGNED_PORT
        admin, op = AdminState.MAINT, OpState.DOWN
    else:
        addr, port, agent = owner.host, owner.port, owner.agent_port
    name = slot_name(slot_id)
    return Server(backend, name, slot_id, addr, port, agent, admin, op, 100, sessions, "", "", "")


def kinds(actions: list[Action]) -> list[tuple[str, str]]:
    return [(type(a).__name__, getattr(a, "slot", "")) for a in actions]


def test_a_new_instance_takes_the_lowest_free_slot() -> None:
    servers = [slot("catalog", 1, reg("catalog", 9)), slot("catalog", 2), slot("catalog", 3)]
    actions = plan([reg("catalog", 9), reg("catalog", 1)], servers)
    assert actions == [Assign("catalog", "s2", reg("catalog", 1))]


def test_agreement_means_nothing_to_do() -> None:
    servers = [slot("catalog", 1, reg("catalog", 1)), slot("catalog", 2)]
    assert plan([reg("catalog", 1)], servers) == []


def test_a_healthy_unregistered_slot_stays() -> None:
    # The registry lost it (Redis restarted, a lease lapsed): HAProxy's checks decide.
    assert plan([], [slot("catalog", 1, reg("catalog", 1))]) == []


def test_an_unregistered_slot_is_released_once_down_in_maint_or_drained_empty() -> None:
    gone = reg("catalog", 1)
    for server in (
        slot("catalog", 1, gone, op=OpState.DOWN),
        slot("catalog", 1, gone, admin=AdminState.MAINT),
        slot("catalog", 1, gone, admin=AdminState.DRAIN, sessions=0),
    ):
        assert kinds(plan([], [server])) == [("Release", "s1")], server
    busy = slot("catalog", 1, gone, admin=AdminState.DRAIN, sessions=2)
    assert plan([], [busy]) == []


def test_a_registered_but_down_instance_keeps_its_slot() -> None:
    # Killed or stopped, its lease not yet expired: it may come back on the same port.
    down = reg("catalog", 1)
    assert plan([down], [slot("catalog", 1, down, op=OpState.DOWN)]) == []


def test_a_registered_slot_in_maintenance_is_made_ready_but_a_drained_one_is_left() -> None:
    r = reg("catalog", 1)
    assert kinds(plan([r], [slot("catalog", 1, r, admin=AdminState.MAINT)])) == [("Ready", "s1")]
    assert plan([r], [slot("catalog", 1, r, admin=AdminState.DRAIN, sessions=3)]) == []


def test_a_changed_agent_port_is_assigned_again() -> None:
    r = reg("catalog", 1)
    moved = replace(r, agent_port=r.agent_port + 50)
    assert plan([moved], [slot("catalog", 1, r)]) == [Assign("catalog", "s1", moved)]


def test_no_free_slot_and_no_backend_are_reported() -> None:
    servers = [slot("catalog", 1, reg("catalog", 1))]
    actions = plan([reg("catalog", 1), reg("catalog", 2), reg("search", 1)], servers)
    assert [type(a) for a in actions] == [Unplaced, Unplaced]
    assert "taken" in actions[0].reason and "no backend" in actions[1].reason


def test_a_second_slot_for_one_instance_is_drained_then_released() -> None:
    r = reg("catalog", 1)
    servers = [slot("catalog", 1, r), slot("catalog", 2, r, sessions=1)]
    assert kinds(plan([r], servers)) == [("Drain", "s2")]
    drained = [servers[0], replace(servers[1], admin=AdminState.DRAIN, sessions=0)]
    assert kinds(plan([r], drained)) == [("Release", "s2")]


def test_releases_come_first_and_assigns_use_only_free_slots() -> None:
    old, new = reg("catalog", 1), reg("catalog", 2)
    servers = [slot("catalog", 1, old, op=OpState.DOWN)]
    # s1 is released this tick, but only a slot that is free now can be assigned.
    assert [type(a) for a in plan([new], servers)] == [Release, Unplaced]


# The model of HAProxy the properties apply plans to.
def apply(servers: list[Server], actions: list[Action]) -> list[Server]:
    by_slot = {(s.backend, s.slot): s for s in servers}
    for action in actions:
        if isinstance(action, Unplaced):
            continue
        key = (action.backend, action.slot)
        server = by_slot[key]
        if isinstance(action, Assign):
            r = action.registration
            server = replace(server, addr=r.host, port=r.port, agent_port=r.agent_port)
            server = replace(server, admin=AdminState.READY, operational=OpState.UP)
        elif isinstance(action, Ready):
            server = replace(server, admin=AdminState.READY)
        elif isinstance(action, Drain):
            server = replace(server, admin=AdminState.DRAIN)
        elif isinstance(action, Release):
            server = slot(server.backend, server.slot_id)
        by_slot[key] = server
    return list(by_slot.values())


SERVICES = ("catalog", "streaming")
registrations = st.lists(
    st.builds(reg, st.sampled_from(SERVICES), st.integers(1, 6)),
    unique_by=lambda r: (r.service, r.instance),
    max_size=8,
)


@st.composite
def slot_tables(draw: st.DrawFn) -> list[Server]:
    servers = []
    for backend in SERVICES:
        for slot_id in range(1, draw(st.integers(1, 5)) + 1):
            owner = draw(st.none() | st.builds(reg, st.just(backend), st.integers(1, 8)))
            admin = draw(st.sampled_from(AdminState))
            op = draw(st.sampled_from(OpState))
            sessions = draw(st.integers(0, 3))
            servers.append(slot(backend, slot_id, owner, admin, op, sessions))
    return servers


@settings(max_examples=400)
@given(registrations, slot_tables())
def test_plans_are_safe(registered: list[Registration], servers: list[Server]) -> None:
    by_slot = {(s.backend, s.slot): s for s in servers}
    actions = plan(registered, servers)
    touched = [(a.backend, a.slot) for a in actions if not isinstance(a, Unplaced)]
    assert len(touched) == len(set(touched)), "one action per slot per tick"
    for action in actions:
        if isinstance(action, Assign):
            target = by_slot[(action.backend, action.slot)]
            r = action.registration
            assert target.free or target.endpoint == (r.host, r.port)
        if isinstance(action, Release):
            # Never take out a slot HAProxy still sends traffic to.
            target = by_slot[(action.backend, action.slot)]
            assert (
                target.admin is AdminState.MAINT
                or target.down
                or (target.admin is AdminState.DRAIN and target.sessions == 0)
            )
    assigned = [a.registration for a in actions if isinstance(a, Assign)]
    assert len(assigned) == len(set(assigned)), "one slot per instance"


@settings(max_examples=400)
@given(registrations, slot_tables())
def test_plans_converge(registered: list[Registration], servers: list[Server]) -> None:
    for _ in range(3):
        servers = apply(servers, plan(registered, servers))
    assert all(isinstance(a, Unplaced) for a in plan(registered, servers))
    for r in registered:
        mine = [s for s in servers if s.backend == r.service and s.endpoint == (r.host, r.port)]
        free = [s for s in servers if s.backend == r.service and s.free]
        # In rotation in exactly one slot, or being drained (scaled down: left alone), or
        # there was no slot to give it; and never left in maintenance.
        serving = [s for s in mine if s.admin is AdminState.READY]
        draining = [s for s in mine if s.admin is AdminState.DRAIN]
        assert len(serving) == 1 or (draining and not serving) or not free
        assert len(serving) <= 1
        assert all(s.admin is not AdminState.MAINT for s in mine)
