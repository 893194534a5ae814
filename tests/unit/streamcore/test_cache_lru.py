"""The in-process LRU: bounded by entries, fresh briefly, last-known for longer."""

from __future__ import annotations

from streamcore.cache import LocalLRU


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_value_is_fresh_until_its_fresh_deadline_then_only_last_known() -> None:
    clock = FakeClock()
    lru: LocalLRU[str] = LocalLRU(10, clock=clock)
    lru.put("k", "v", fresh_s=2, stale_s=60)
    assert lru.get_fresh("k") == "v"
    clock.now += 2
    assert lru.get_fresh("k") is None
    assert lru.get_stale("k") == "v"
    clock.now += 58
    assert lru.get_stale("k") is None
    assert len(lru) == 0  # dropped once past its stale deadline


def test_the_least_recently_used_entry_is_evicted_first() -> None:
    lru: LocalLRU[int] = LocalLRU(2, clock=FakeClock())
    lru.put("a", 1, fresh_s=10, stale_s=10)
    lru.put("b", 2, fresh_s=10, stale_s=10)
    assert lru.get_fresh("a") == 1  # a is now more recent than b
    lru.put("c", 3, fresh_s=10, stale_s=10)
    assert len(lru) == 2
    assert lru.get_stale("b") is None
    assert (lru.get_fresh("a"), lru.get_fresh("c")) == (1, 3)


def test_writing_a_key_again_replaces_it_without_growing() -> None:
    lru: LocalLRU[int] = LocalLRU(2, clock=FakeClock())
    for value in range(5):
        lru.put("k", value, fresh_s=10, stale_s=10)
    assert len(lru) == 1 and lru.get_fresh("k") == 4


def test_expire_keeps_the_value_as_last_known() -> None:
    lru: LocalLRU[str] = LocalLRU(10, clock=FakeClock())
    lru.put("k", "v", fresh_s=10, stale_s=100)
    lru.expire("k")
    lru.expire("absent")
    assert lru.get_fresh("k") is None and lru.get_stale("k") == "v"


def test_expire_where_matches_on_the_value() -> None:
    lru: LocalLRU[str] = LocalLRU(10, clock=FakeClock())
    for key in ("list:1", "list:2", "title:1"):
        lru.put(key, key, fresh_s=10, stale_s=10)
    assert lru.expire_where(lambda value: value.startswith("list:")) == 2
    assert lru.get_fresh("list:1") is None and lru.get_fresh("title:1") == "title:1"


def test_a_zero_sized_lru_keeps_nothing() -> None:
    lru: LocalLRU[str] = LocalLRU(0, clock=FakeClock())
    lru.put("k", "v", fresh_s=10, stale_s=10)
    assert len(lru) == 0 and lru.get_stale("k") is None
