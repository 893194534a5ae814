"""Single-flight: one load per key at a time, shared, and not undone by its starter leaving."""

from __future__ import annotations

import asyncio

import pytest

from streamcore.cache.singleflight import SingleFlight


async def test_concurrent_callers_share_one_load() -> None:
    flight: SingleFlight[int] = SingleFlight()
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return 7

    results = await asyncio.gather(*(flight.run("k", load) for _ in range(5)))
    assert loads == 1
    assert sorted(ran for _, ran in results) == [False, False, False, False, True]
    assert {value for value, _ in results} == {7}


async def test_the_starter_cancelled_leaves_the_joiners_their_result() -> None:
    flight: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def load() -> str:
        await release.wait()
        return "bytes"

    starter = asyncio.create_task(flight.run("k", load))
    await asyncio.sleep(0)
    joiner = asyncio.create_task(flight.run("k", load))
    await asyncio.sleep(0)
    starter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starter
    release.set()
    assert await joiner == ("bytes", False)


async def test_an_error_reaches_every_caller_and_the_next_call_loads_again() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise OSError("storage down")

    results = await asyncio.gather(
        flight.run("k", failing), flight.run("k", failing), return_exceptions=True
    )
    assert calls == 1 and all(isinstance(r, OSError) for r in results)

    async def working() -> int:
        return 1

    assert await flight.run("k", working) == (1, True)
