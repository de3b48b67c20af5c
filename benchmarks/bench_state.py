"""How fast each tab store takes orders: ``python benchmarks/bench_state.py``.

For the memory, SQLite and PostgreSQL stores it measures, through ``TabManager.order``:

- orders/s from one task, and the p50/p99 latency of one order;
- orders/s from 8 concurrent tasks, each on its own sessions.

Every 50 orders a task moves to a fresh session, so the tab (and the rows read per
order) stays the size of a real evening rather than growing without bound. Each phase
stops after a fixed number of orders or a few seconds, whichever comes first, so the
whole run stays well under a minute.

PostgreSQL runs against ``$MAYA_BENCH_POSTGRES_URL``, else ``$MAYA_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test``; if none answers it is skipped with a
note. It uses a schema of its own, dropped afterwards. Both SQL stores run with their
durable defaults (SQLite ``synchronous=FULL``; PostgreSQL's ``synchronous_commit``).

Output: a table for people, then one JSON line per figure, e.g.
``{"metric": "sqlite.orders_per_s", "value": 1234.5, "unit": "1/s"}``.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio

from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.sql import PostgresTabStore, SqliteTabStore, StoreError
from maya.state.store import TabStore

SESSION_LENGTH = 50
"""Orders per session before a task moves to a fresh one."""
TASKS = 8
PHASE_SECONDS = 3.0
MAX_ORDERS = {"memory": 20_000, "sqlite": 3_000, "postgres": 3_000}
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Figures:
    """What one store measured."""

    kind: str
    single_per_s: float
    concurrent_per_s: float
    p50_ms: float
    p99_ms: float


async def _orders(
    manager: TabManager, prefix: str, limit: int, deadline: float, latencies: list[float] | None
) -> int:
    """Order Water until ``limit`` or ``deadline``; a fresh session every SESSION_LENGTH."""
    done = 0
    while done < limit and time.perf_counter() < deadline:
        session = f"{prefix}-{done // SESSION_LENGTH}"
        start = time.perf_counter()
        await manager.order(session, "Water")
        if latencies is not None:
            latencies.append(time.perf_counter() - start)
        done += 1
    return done


async def measure(kind: str, store: TabStore) -> Figures:
    """Run both phases on ``store``."""
    manager = TabManager(store)
    run = uuid.uuid4().hex[:8]
    await manager.order(f"warmup-{run}", "Water")  # opens files, pools, creates tables

    latencies: list[float] = []
    started = time.perf_counter()
    count = await _orders(
        manager, f"one-{run}", MAX_ORDERS[kind], started + PHASE_SECONDS, latencies
    )
    single = count / (time.perf_counter() - started)

    totals: list[int] = []
    started = time.perf_counter()
    deadline = started + PHASE_SECONDS

    async def task(n: int) -> None:
        totals.append(
            await _orders(manager, f"many-{run}-{n}", MAX_ORDERS[kind] // TASKS, deadline, None)
        )

    async with anyio.create_task_group() as group:
        for n in range(TASKS):
            group.start_soon(task, n)
    concurrent = sum(totals) / (time.perf_counter() - started)

    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Figures(kind, single, concurrent, cuts[49] * 1000, cuts[98] * 1000)


def postgres_url() -> str:
    """Where the PostgreSQL figures come from."""
    return (
        os.environ.get("MAYA_BENCH_POSTGRES_URL")
        or os.environ.get("MAYA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )


def drop_schema(url: str, schema: str) -> None:
    """Remove the benchmark's tables."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


async def bench_all(note: Callable[[str], None]) -> list[Figures]:
    """Measure every store that is available."""
    results = [await measure("memory", MemoryTabStore())]
    with tempfile.TemporaryDirectory() as directory:
        async with SqliteTabStore(Path(directory) / "bench.sqlite3") as sqlite:
            results.append(await measure("sqlite", sqlite))
    url = postgres_url()
    schema = f"maya_bench_{uuid.uuid4().hex[:8]}"
    postgres = PostgresTabStore(url, schema=schema, max_size=TASKS, connect_timeout=3.0)
    try:
        results.append(await measure("postgres", postgres))
    except StoreError as exc:
        note(f"PostgreSQL skipped: {exc}")
        return results
    finally:
        await postgres.aclose()
    drop_schema(url, schema)
    return results


def report(results: list[Figures]) -> list[str]:
    """The table for people, then the JSON lines."""
    lines = [
        f"Orders through TabManager (Water, a fresh session every {SESSION_LENGTH} orders,"
        f" up to {PHASE_SECONDS:.0f} s per phase)",
        f"{'store':<10} {'orders/s 1 task':>16} {f'orders/s {TASKS} tasks':>16}"
        f" {'p50 ms':>9} {'p99 ms':>9}",
    ]
    for r in results:
        lines.append(
            f"{r.kind:<10} {r.single_per_s:>16.1f} {r.concurrent_per_s:>16.1f}"
            f" {r.p50_ms:>9.3f} {r.p99_ms:>9.3f}"
        )
    for r in results:
        for metric, value, unit in (
            ("orders_per_s", r.single_per_s, "1/s"),
            (f"orders_per_s_{TASKS}_tasks", r.concurrent_per_s, "1/s"),
            ("order_p50_ms", r.p50_ms, "ms"),
            ("order_p99_ms", r.p99_ms, "ms"),
        ):
            lines.append(
                json.dumps({"metric": f"{r.kind}.{metric}", "value": round(value, 3), "unit": unit})
            )
    return lines


def main() -> None:
    """Run the benchmark and print its figures."""
    notes: list[str] = []

    async def run() -> list[Figures]:
        return await bench_all(notes.append)

    # The pool logs each failed connection attempt; an absent server is reported once, below.
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    results = anyio.run(run)
    for line in notes:
        print(line)
    for line in report(results):
        print(line)


if __name__ == "__main__":
    main()
