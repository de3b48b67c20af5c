"""A reader that goes away mid-query costs no pooled PostgreSQL connection.

A page closing its tab stream cancels the ``watch`` block, often while its read is in
flight. Cancelling a psycopg query in flight closes the connection (and the pool opens
another); the store lets the read finish and returns the connection instead. Each test
cancels at every point of the read in turn and reads the pool's own statistics.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import pytest

from maya.bar import load_menu
from maya.state import PostgresTabStore, TabManager

from .conftest import Backend, postgres_url

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

CANCEL_POINTS = 60  # event-loop steps after which the reader is cancelled: 1, 2, ... 60


async def _cancel_at_every_point(read: Callable[[], Awaitable[object]]) -> None:
    """Run ``read`` cancelled after 1, 2, ... steps of the event loop."""
    for steps in range(1, CANCEL_POINTS + 1):
        async with anyio.create_task_group() as group:
            group.start_soon(read)
            for _ in range(steps):
                await anyio.lowlevel.checkpoint()
            group.cancel_scope.cancel()


def _churn(store: PostgresTabStore) -> dict[str, int]:
    pool = store._pool
    assert pool is not None
    stats = pool.get_stats()
    return {
        "opened": stats.get("connections_num", 0),
        "lost": stats.get("connections_lost", 0),
        "returned_bad": stats.get("returns_bad", 0),
        "requests": stats.get("requests_num", 0),
    }


async def test_reads_cancelled_mid_query_keep_their_connection(pg_backend: Backend) -> None:
    store = pg_backend.open()
    assert isinstance(store, PostgresTabStore)
    try:
        manager = TabManager(store, catalog=load_menu())
        await manager.order("churn", "Water")
        with anyio.fail_after(60):
            await _cancel_at_every_point(lambda: manager.get("churn"))
        churn = _churn(store)
        assert churn["requests"] >= CANCEL_POINTS
        assert churn == {**churn, "opened": 1, "lost": 0, "returned_bad": 0}
    finally:
        await store.aclose()


async def test_tab_streams_closed_mid_read_keep_their_connection(pg_backend: Backend) -> None:
    store = pg_backend.open()
    assert isinstance(store, PostgresTabStore)
    try:
        manager = TabManager(store, catalog=load_menu())
        await manager.order("stream", "Water")

        async def open_and_read() -> None:
            # What `GET /api/tab/events` does: watch (a read, and the change feed), and
            # wait for the next change until the browser leaves.
            async with manager.watch("stream") as updates:
                await updates.__anext__()
                await updates.next_within(0.01)

        with anyio.fail_after(60):
            await _cancel_at_every_point(open_and_read)
        churn = _churn(store)
        assert churn == {**churn, "opened": 1, "lost": 0, "returned_bad": 0}
        # The pool still works, and the feed still delivers.
        async with manager.watch("stream") as updates:
            assert (await updates.__anext__()).tab_cents == 100
    finally:
        await store.aclose()


async def test_a_connection_dropped_while_idle_is_replaced_at_checkout(
    pg_backend: Backend,
) -> None:
    import psycopg

    store = pg_backend.open()
    assert isinstance(store, PostgresTabStore)
    try:
        manager = TabManager(store, catalog=load_menu())
        await manager.get("dropped")
        pool = store._pool
        assert pool is not None
        async with pool.connection() as connection:
            pid = connection.info.backend_pid
        with psycopg.connect(postgres_url() or "", autocommit=True) as admin:
            # Waits (at most 10 s) until the backend has really gone: its goodbye is then
            # on the idle connection's socket, as when a server drops one while idle.
            gone = admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()
            assert gone == (True,)
        assert (await manager.get("dropped")).version == 0
        assert (await manager.order("dropped", "Water")).version == 1
    finally:
        await store.aclose()
