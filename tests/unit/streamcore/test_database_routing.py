"""Where reads go: replicas in turn, skipping unhealthy or lagging ones, the primary for a caller
who just wrote or when no replica is usable. The policy is pure bookkeeping, driven here with a
fake clock; tests/integration/test_replicas.py runs the same routing against real replicas."""

from __future__ import annotations

import pytest

from streamcore.db.read_routing import ReadPolicy, ReplicaState, replica_problem

FRESH = ReplicaState(in_recovery=True, lag_s=0.0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def policy(
    clock: FakeClock, replicas: tuple[str, ...] = ("r1", "r2"), **kwargs: float
) -> ReadPolicy:
    routing = ReadPolicy(
        replicas,
        max_lag_s=kwargs.get("max_lag_s", 5.0),
        read_your_writes_s=kwargs.get("read_your_writes_s", 5.0),
        clock=clock,
        max_writers=int(kwargs.get("max_writers", 100)),
    )
    for name in replicas:
        routing.observe(name, FRESH)
    return routing


def test_reads_go_to_the_replicas_in_turn() -> None:
    routing = policy(FakeClock(), ("r1", "r2", "r3"))
    assert [routing.choose() for _ in range(6)] == ["r1", "r2", "r3", "r1", "r2", "r3"]


def test_replicas_are_unusable_until_a_probe_says_otherwise() -> None:
    routing = ReadPolicy(["r1"], max_lag_s=5, read_your_writes_s=5)
    assert routing.health["r1"].reason == "not checked yet"
    assert routing.choose() is None


def test_without_replicas_every_read_goes_to_the_primary() -> None:
    assert policy(FakeClock(), ()).choose("someone") is None


def test_a_replica_marked_down_is_skipped_until_it_answers_again() -> None:
    routing = policy(FakeClock())
    routing.mark_down("r1", "ConnectionRefusedError")
    assert {routing.choose() for _ in range(4)} == {"r2"}
    assert routing.health["r1"].reason == "ConnectionRefusedError"
    routing.observe("r1", FRESH)
    assert {routing.choose() for _ in range(4)} == {"r1", "r2"}


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (ReplicaState(in_recovery=True, lag_s=7.5), "7.5 s behind the primary (limit 5 s)"),
        (ReplicaState(in_recovery=True, lag_s=None), "not streaming from the primary yet"),
        (ReplicaState(in_recovery=False, lag_s=0.0), "not a standby"),
    ],
)
def test_a_lagging_detached_or_promoted_replica_is_skipped(
    state: ReplicaState, reason: str
) -> None:
    routing = policy(FakeClock())
    routing.observe("r2", state)
    assert {routing.choose() for _ in range(4)} == {"r1"}
    assert not routing.is_healthy("r2")
    assert reason in (routing.health["r2"].reason or "")
    assert routing.health["r2"].lag_s == state.lag_s


def test_a_replica_exactly_at_the_lag_limit_is_still_used() -> None:
    assert replica_problem(ReplicaState(in_recovery=True, lag_s=5.0), max_lag_s=5.0) is None


def test_with_every_replica_unusable_reads_go_to_the_primary() -> None:
    routing = policy(FakeClock())
    routing.mark_down("r1", "down")
    routing.observe("r2", ReplicaState(in_recovery=True, lag_s=60.0))
    assert routing.choose() is None
    assert routing.choose("someone") is None


def test_a_writer_reads_from_the_primary_until_the_window_ends() -> None:
    clock = FakeClock()
    routing = policy(clock, read_your_writes_s=5.0)
    routing.wrote("alice")
    assert routing.choose("alice") is None
    assert routing.choose("bob") in ("r1", "r2")  # only the writer sticks
    clock.now += 4.9
    assert routing.choose("alice") is None
    clock.now += 0.1
    assert routing.choose("alice") in ("r1", "r2")


def test_writing_again_extends_the_window() -> None:
    clock = FakeClock()
    routing = policy(clock, read_your_writes_s=5.0)
    routing.wrote("alice")
    clock.now += 4.0
    routing.wrote("alice")
    clock.now += 4.0
    assert routing.sticky("alice")
    clock.now += 1.0
    assert not routing.sticky("alice")


def test_anonymous_callers_never_stick() -> None:
    routing = policy(FakeClock())
    routing.wrote(None)
    assert routing.choose(None) in ("r1", "r2")


def test_a_zero_window_turns_read_your_writes_off() -> None:
    routing = policy(FakeClock(), read_your_writes_s=0.0)
    routing.wrote("alice")
    assert routing.choose("alice") in ("r1", "r2")


def test_the_writers_map_is_bounded_forgetting_the_oldest() -> None:
    routing = policy(FakeClock(), max_writers=2)
    for actor in ("a", "b", "c"):
        routing.wrote(actor)
    assert [routing.sticky(actor) for actor in ("a", "b", "c")] == [False, True, True]


def test_excluded_replicas_are_not_chosen_again() -> None:
    routing = policy(FakeClock())
    assert routing.choose(exclude=["r1"]) == "r2"
    assert routing.choose(exclude=["r1", "r2"]) is None
