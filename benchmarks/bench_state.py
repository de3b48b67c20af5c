"""How fast each tab store takes orders: ``python benchmarks/bench_state.py``.

For the memory, SQLite and PostgreSQL stores it measures, through ``TabManager.order``:

- orders/s from one task, and the p50/p99 latency of one order;
- orders/s from 8 concurrent tasks, each on its own sessions;
- the cost of an order as the tab grows: the p50 latency of an order on a near-empty tab
  (its first 100 orders) and after 2,000 items, and their ratio (goal: <= 1.3), the two
  sampled in alternation;
- the raw durable-commit limit, measured in the same run on the same engine: a plain
  ``BEGIN IMMEDIATE; UPDATE; INSERT; COMMIT`` loop on SQLite with the store's pragmas, the
  same with ``SELECT ... FOR UPDATE`` first on PostgreSQL; and, as a ratio of it (goal:
  >= 0.8), the store's orders/s in the same shape: one task ordering on one session,
  in blocks interleaved with the raw loop's.

In the throughput phases, every 50 orders a task moves to a fresh session, so the tab
stays the size of a real evening. Each phase stops after a fixed number of orders or a
few seconds, whichever comes first, so the whole run stays well under a minute.

PostgreSQL runs against ``$MAYA_BENCH_POSTGRES_URL``, else ``$MAYA_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test``; if none answers it is skipped with a
note. It uses a schema of its own, dropped afterwards. Both SQL stores run with their
durable defaults (SQLite ``synchronous=FULL``; PostgreSQL's ``synchronous_commit``).

Output: a table for people, then one JSON line per figure, e.g.
``{"metric": "sqlite.orders_per_s", "value": 1234.5, "unit": "1/s"}``.
"""

from __future__ import annotations

import itertools
import json
import logging
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from _postgres import drop_schema, postgres_url
from maya.bar import load_menu
from maya.state import transitions
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.models import TabState
from maya.state.sql import PostgresTabStore, SqliteTabStore, StoreError, _schema
from maya.state.store import TabStore

SESSION_LENGTH = 50
"""Orders per session before a task moves to a fresh one."""
TASKS = 8
PHASE_SECONDS = 2.5
MAX_ORDERS = {"memory": 20_000, "sqlite": 3_000, "postgres": 3_000}
GROWN_ITEMS = 2_000
"""The tab size at which the second latency is measured."""
SAMPLES = 100
"""Orders timed at each tab size."""
ROUNDS = 10
"""Interleaved rounds of the cost phase."""
BLOCK = 50
"""Orders (and raw commits) per round in the store-vs-raw comparison."""


@dataclass
class Figures:
    """What one store measured."""

    kind: str
    single_per_s: float
    concurrent_per_s: float
    p50_ms: float
    p99_ms: float
    empty_p50_ms: float = 0.0
    grown_p50_ms: float = 0.0
    steady_per_s: float = 0.0
    raw_per_s: float | None = None

    @property
    def growth(self) -> float:
        """How much dearer an order is after GROWN_ITEMS items than on a near-empty tab."""
        return self.grown_p50_ms / self.empty_p50_ms

    @property
    def of_raw(self) -> float | None:
        """The store's orders/s on one session as a fraction of the raw commit loop's."""
        return None if self.raw_per_s is None else self.steady_per_s / self.raw_per_s


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


async def measure(kind: str, store: TabStore, raw: RawLoop | None = None) -> Figures:
    """The cost phase (see ``cost``), then both throughput phases, on ``store``."""
    manager = TabManager(store, catalog=load_menu())
    run = uuid.uuid4().hex[:8]
    await manager.order(f"warmup-{run}", "Water")  # opens files, pools, creates tables
    empty, grown, steady, raw_per_s = await cost(store, run, raw)

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
    return Figures(
        kind,
        single,
        concurrent,
        cuts[49] * 1000,
        cuts[98] * 1000,
        empty,
        grown,
        steady,
        raw_per_s,
    )


RawLoop = Callable[[int], Awaitable[None]]
"""Runs ``n`` raw durable commits (lock the row, update it, insert an item, commit)."""


async def cost(
    store: TabStore, run: str, raw: RawLoop | None
) -> tuple[float, float, float, float | None]:
    """What an order costs, measured in interleaved rounds so drift hits every figure alike.

    Each round times SAMPLES / ROUNDS orders on a near-empty tab alternating with as many
    on a tab of GROWN_ITEMS items, then a block of orders on one session and a block of
    raw commits.

    Returns:
        p50 ms near-empty, p50 ms grown, the store's orders/s, the raw loop's orders/s.
    """
    manager = TabManager(store, starting_balance_cents=10**12, catalog=load_menu())
    empty, grown, steady = f"empty-{run}", f"grown-{run}", f"steady-{run}"
    for session in (empty, grown, steady):
        await manager.order(session, "Water")  # the sessions exist: no first-write claims

    def grow(state: TabState) -> tuple[TabState, None]:
        # One transaction puts the tab at GROWN_ITEMS, through the same rule.
        for _ in range(GROWN_ITEMS - len(state.items)):
            state = transitions.order_change(
                state, name="Water", unit_price_cents=100, quantity=1, modifiers=()
            ).after
        return state, None

    await store.transact(grown, lambda: transitions.new_tab(grown, 10**12), grow)
    await manager.get(grown)  # as a customer looking at the bill would, once
    timings: dict[str, list[float]] = {empty: [], grown: []}
    store_seconds = raw_seconds = 0.0
    for _ in range(ROUNDS):
        for _ in range(SAMPLES // ROUNDS):
            # One order on each tab in turn: whatever slows the machine slows both.
            for session, times in timings.items():
                start = time.perf_counter()
                await manager.order(session, "Water")
                times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for _ in range(BLOCK):
            await manager.order(steady, "Water")
        store_seconds += time.perf_counter() - start
        if raw is not None:
            start = time.perf_counter()
            await raw(BLOCK)
            raw_seconds += time.perf_counter() - start
    done = ROUNDS * BLOCK
    return (
        statistics.median(timings[empty]) * 1000,
        statistics.median(timings[grown]) * 1000,
        done / store_seconds,
        None if raw is None else done / raw_seconds,
    )


@asynccontextmanager
async def raw_sqlite(path: Path) -> AsyncIterator[RawLoop]:
    """A plain durable commit loop with the store's schema and pragmas, on its own file."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "busy_timeout = 30000",
            "journal_mode = WAL",
            "synchronous = FULL",
            "foreign_keys = ON",
        ):
            connection.execute(f"PRAGMA {pragma}")
        for statement in _schema.upgrade_statements(None, database="the raw loop's file"):
            connection.execute(statement)
        connection.execute(_schema.INSERT_TAB, _RAW_TAB)
        seq = itertools.count(1)

        async def commits(n: int) -> None:
            for _ in range(n):
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(_RAW_UPDATE, {"session_id": "raw"})
                connection.execute(_schema.INSERT_ITEM, {**_RAW_ITEM, "seq": next(seq)})
                connection.execute("COMMIT")

        yield commits
    finally:
        connection.close()


@asynccontextmanager
async def raw_postgres(url: str, schema: str) -> AsyncIterator[RawLoop]:
    """The same loop on PostgreSQL: lock the row, update it, insert an item, commit."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as connection:
        await connection.execute(f'SET search_path TO "{schema}"')
        pg = _schema.for_postgres
        async with connection.transaction():
            await connection.execute(pg(_schema.INSERT_TAB), _RAW_TAB)
        seq = itertools.count(1)

        async def commits(n: int) -> None:
            for _ in range(n):
                async with connection.transaction():
                    await connection.execute(
                        pg(_schema.SELECT_TAB) + " FOR UPDATE", {"session_id": "raw"}
                    )
                    await connection.execute(pg(_RAW_UPDATE), {"session_id": "raw"})
                    await connection.execute(
                        pg(_schema.INSERT_ITEM), {**_RAW_ITEM, "seq": next(seq)}
                    )

        yield commits


_RAW_TAB = {
    "session_id": "raw",
    "balance_cents": 10**12,
    "tab_cents": 0,
    "next_item_seq": 1,
    "tip_percent": None,
    "credit_cents": 0,
    "needs_reconciliation": False,
    "version": 0,
    "shortfall_cents": 0,
    "currency": "usd",
    "updated_at": 0.0,
}
_RAW_UPDATE = (
    "UPDATE tabs SET balance_cents = balance_cents - 100, tab_cents = tab_cents + 100,"
    " next_item_seq = next_item_seq + 1, version = version + 1, updated_at = 0"
    " WHERE session_id = :session_id"
)
_RAW_ITEM = {
    "session_id": "raw",
    "name": "Water",
    "unit_price_cents": 100,
    "quantity": 1,
    "modifiers": "[]",
}


async def bench_all(note: Callable[[str], None]) -> list[Figures]:
    """Measure every store that is available."""
    results = [await measure("memory", MemoryTabStore())]
    with tempfile.TemporaryDirectory() as directory:
        async with (
            SqliteTabStore(Path(directory) / "bench.sqlite3") as sqlite,
            raw_sqlite(Path(directory) / "raw.sqlite3") as raw,
        ):
            results.append(await measure("sqlite", sqlite, raw))
    url = postgres_url()
    schema = f"maya_bench_{uuid.uuid4().hex[:8]}"
    postgres = PostgresTabStore(url, schema=schema, max_size=TASKS, connect_timeout=3.0)
    try:
        await postgres.session_ids()  # creates the schema the raw loop uses too
        async with raw_postgres(url, schema) as raw:
            results.append(await measure("postgres", postgres, raw))
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
        f" {'p50 ms':>9} {'p99 ms':>9} {'p50 empty':>10} {f'p50 {GROWN_ITEMS}':>10}"
        f" {'growth':>7} {'raw/s':>8} {'of raw':>7}",
    ]
    for r in results:
        raw = "-" if r.raw_per_s is None else f"{r.raw_per_s:.1f}"
        of_raw = "-" if r.of_raw is None else f"{r.of_raw:.2f}"
        lines.append(
            f"{r.kind:<10} {r.single_per_s:>16.1f} {r.concurrent_per_s:>16.1f}"
            f" {r.p50_ms:>9.3f} {r.p99_ms:>9.3f} {r.empty_p50_ms:>10.3f}"
            f" {r.grown_p50_ms:>10.3f} {r.growth:>7.2f} {raw:>8} {of_raw:>7}"
        )
    for r in results:
        figures: list[tuple[str, float, str]] = [
            ("orders_per_s", r.single_per_s, "1/s"),
            (f"orders_per_s_{TASKS}_tasks", r.concurrent_per_s, "1/s"),
            ("order_p50_ms", r.p50_ms, "ms"),
            ("order_p99_ms", r.p99_ms, "ms"),
            ("order_p50_ms_empty_tab", r.empty_p50_ms, "ms"),
            (f"order_p50_ms_{GROWN_ITEMS}_items", r.grown_p50_ms, "ms"),
            (f"order_cost_ratio_{GROWN_ITEMS}_items_vs_empty", r.growth, "x"),
        ]
        if r.raw_per_s is not None and r.of_raw is not None:
            figures.append(("orders_per_s_one_session", r.steady_per_s, "1/s"))
            figures.append(("raw_commit_orders_per_s", r.raw_per_s, "1/s"))
            figures.append(("orders_per_s_vs_raw_commit", r.of_raw, "x"))
        for metric, value, unit in figures:
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
