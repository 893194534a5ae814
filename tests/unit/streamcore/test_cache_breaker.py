"""The circuit breaker around Redis: closed, open after N failures, one half-open probe."""

from __future__ import annotations

from streamcore.cache import BreakerState, CircuitBreaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: FakeClock, transitions: list[tuple[str, str]] | None = None) -> CircuitBreaker:
    def record(old: BreakerState, new: BreakerState) -> None:
        if transitions is not None:
            transitions.append((old.name, new.name))

    return CircuitBreaker(5, 10.0, clock=clock, on_transition=record)


def test_opens_after_the_threshold_of_consecutive_failures() -> None:
    cb = breaker(FakeClock())
    for _ in range(4):
        assert cb.allow()
        cb.record_failure()
    assert cb.state is BreakerState.CLOSED
    cb.record_failure()
    assert cb.state is BreakerState.OPEN
    assert not cb.allow()


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    cb = breaker(FakeClock())
    for _ in range(4):
        cb.record_failure()
    cb.record_success()
    for _ in range(4):
        cb.record_failure()
    assert cb.state is BreakerState.CLOSED


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes() -> None:
    clock, transitions = FakeClock(), list[tuple[str, str]]()
    cb = breaker(clock, transitions)
    for _ in range(5):
        cb.record_failure()
    clock.now = 9.9
    assert not cb.allow()
    clock.now = 10.0
    assert cb.state is BreakerState.HALF_OPEN
    assert cb.allow()  # the probe
    assert not cb.allow()  # everyone else waits for its outcome
    cb.record_success()
    assert cb.state is BreakerState.CLOSED and cb.allow()
    assert transitions == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]


def test_a_failed_probe_opens_again_for_a_full_cool_down() -> None:
    clock = FakeClock()
    cb = breaker(clock)
    for _ in range(5):
        cb.record_failure()
    clock.now = 10.0
    assert cb.allow()
    cb.record_failure()
    assert cb.state is BreakerState.OPEN
    clock.now = 19.9
    assert not cb.allow()
    clock.now = 20.0
    assert cb.allow()


def test_a_probe_that_never_reports_does_not_block_the_next_one_forever() -> None:
    clock = FakeClock()
    cb = breaker(clock)
    for _ in range(5):
        cb.record_failure()
    clock.now = 10.0
    assert cb.allow()  # its task is cancelled: it reports nothing
    clock.now = 15.0
    assert not cb.allow()
    clock.now = 20.0
    assert cb.allow()
