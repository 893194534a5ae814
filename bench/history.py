"""Watch history's reads with a million rows, on a read replica: p50 and p99 of the history
page and the Continue Watching query (the exact SQL of streaming/history/queries.py), beside
a baseline measured in the same run on the same connection (``SELECT 1``: what a round trip
costs), so that the ratio, not the noisy absolute, is what to compare.

Needs a running stack with a replica:

    streamcore up --detach --replicas 1
    .venv/bin/python bench/history.py [--rows 1000000] [--profiles 50000] [--queries 2000]

It loads the rows into a scratch schema on the primary (tests/integration/history/large.py:
a copy of streaming.watch_history with its indexes), waits for the replica to replay it,
queries random profiles there, and drops the schema. The issue's goal: p99 under 5 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamcore.db.database import connect
from streamcore.settings import load_settings
from streaming.history import queries
from tests.integration.history.large import drop, load, profile_id

SCHEMA = "history_bench"


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000


async def _replayed(replica: asyncpg.Connection, rows: int) -> None:
    """Until the replica has replayed the load."""
    for _ in range(600):
        present = await replica.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = $1", SCHEMA
        )
        if present and await replica.fetchval(
            f'SELECT count(*) FROM "{SCHEMA}".watch_history'
        ) >= rows:  # fmt: skip
            return
        await asyncio.sleep(0.5)
    raise SystemExit("the replica did not replay the load in 5 minutes")


async def main(rows: int, profiles: int, count: int) -> int:
    settings = load_settings()
    if not settings.stack.postgres_replicas and not settings.postgres.replica_urls:
        # `streamcore up --replicas 1` said so on its command line, not in the settings.
        stack = settings.stack.model_copy(update={"postgres_replicas": 1})
        settings = settings.model_copy(update={"stack": stack})
    if not settings.postgres_replica_dsns:
        print("no replica: start the stack with `streamcore up --detach --replicas 1`")
        return 2
    primary = await connect(settings)
    replica = await connect(settings, settings.postgres_replica_dsns[0])
    try:
        started = time.perf_counter()
        await load(primary, SCHEMA, rows, profiles)
        print(f"loaded {rows:,} rows over {profiles:,} profiles in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        await _replayed(replica, rows)
        await replica.execute(f'SET search_path TO "{SCHEMA}"')
        rng = random.Random(1)
        work = {
            "baseline SELECT 1": lambda p: replica.fetchval("SELECT 1"),
            "history page (50)": lambda p: replica.fetch(queries.HISTORY_SQL, p, None, None, 50),
            "continue watching (20)": lambda p: replica.fetch(
                queries.CONTINUE_SQL, p, 0.05, 0.9, 20
            ),
        }
        results: dict[str, tuple[float, float]] = {}
        for name, call in work.items():
            for _ in range(100):  # warm
                await call(profile_id(rng.randrange(profiles)))
            samples = []
            for _ in range(count):
                profile = profile_id(rng.randrange(profiles))
                begin = time.perf_counter()
                await call(profile)
                samples.append(time.perf_counter() - begin)
            results[name] = _ms(samples)
        base = results["baseline SELECT 1"][1]
        print(f"{'query (on the replica)':28} {'p50 ms':>8} {'p99 ms':>8} {'p99/baseline':>13}")
        for name, (p50, p99) in results.items():
            print(f"{name:28} {p50:8.3f} {p99:8.3f} {p99 / base:13.2f}")
        worst = max(results["history page (50)"][1], results["continue watching (20)"][1])
        print(f"goal p99 < 5 ms: {'met' if worst < 5 else 'MISSED'} ({worst:.3f} ms)")
        return 0 if worst < 5 else 1
    finally:
        await drop(primary, SCHEMA)
        await primary.close()
        await replica.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--profiles", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.rows, args.profiles, args.queries)))
