"""Where SQLite's work runs and which commits wait for the disk.

A tab's change commits in the worker thread and waits for the disk (FULL); a remembered
turn commits on the event loop without waiting for it (NORMAL), and so do reads. Work on
the loop never waits for a lock: it goes to the thread, which does.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from maya.bar import load_menu
from maya.state.conversations import ConversationBounds
from maya.state.errors import StoreError
from maya.state.manager import TabManager
from maya.state.sql.sqlite import SqliteTabStore

pytestmark = pytest.mark.anyio

FULL, NORMAL = 2, 1


def _synchronous(connection: sqlite3.Connection | None) -> int:
    assert connection is not None
    return int(connection.execute("PRAGMA synchronous").fetchone()[0])


@contextmanager
def _traced(
    store: SqliteTabStore, in_thread: threading.Event | None = None
) -> Iterator[list[tuple[str, str, str]]]:
    """(where, which connection, statement) of every statement the store runs;
    ``in_thread`` is set when one runs in the worker thread."""
    loop_thread = threading.get_ident()
    seen: list[tuple[str, str, str]] = []
    connections = {"thread's": store._connection, "loop's": store._loop_connection}
    for name, connection in connections.items():
        assert connection is not None

        def note(statement: str, name: str = name) -> None:
            where = "loop" if threading.get_ident() == loop_thread else "thread"
            seen.append((where, name, statement))
            if where == "thread" and in_thread is not None:
                in_thread.set()

        connection.set_trace_callback(note)
    try:
        yield seen
    finally:
        for connection in connections.values():
            assert connection is not None
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                connection.set_trace_callback(None)


async def _opened(path: Path, **options: object) -> tuple[SqliteTabStore, TabManager]:
    store = SqliteTabStore(path, **options)  # type: ignore[arg-type]
    manager = TabManager(store, catalog=load_menu())
    await manager.get("s")  # the first call opens the file (in the thread)
    return store, manager


async def test_a_turn_and_reads_run_on_the_loop_and_the_tab_in_the_thread(
    tmp_path: Path,
) -> None:
    store, manager = await _opened(tmp_path / "tabs.sqlite3")  # FULL: the default
    with _traced(store) as seen:
        await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
        turn = seen[:]
        seen.clear()
        await manager.order("s", "Water")
        order = seen[:]
        seen.clear()
        await store.load_conversation("s", now=2.0, idle_s=60)
        await manager.get("s")
        reads = seen[:]

    assert ("loop", "loop's", "COMMIT") in turn
    assert {(where, name) for where, name, _ in turn} == {("loop", "loop's")}
    assert not any(s.startswith("PRAGMA") for _, _, s in turn)  # nothing toggled
    assert ("thread", "thread's", "COMMIT") in order
    assert {(where, name) for where, name, _ in order} == {("thread", "thread's")}
    assert reads and {(where, name) for where, name, _ in reads} == {("loop", "loop's")}
    assert _synchronous(store._connection) == FULL  # a tab's commit waits for the disk
    assert _synchronous(store._loop_connection) == NORMAL  # a turn's does not
    assert (await store.load_conversation("s", now=2.0, idle_s=60)).turns == ("[]",)
    await store.aclose()


async def test_a_locked_file_sends_the_turn_to_the_thread_which_waits(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, _ = await _opened(path, busy_timeout=10.0)
    other = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    in_thread = threading.Event()
    with _traced(store, in_thread) as seen:
        async with anyio.create_task_group() as group:
            done = anyio.Event()

            async def remember() -> None:
                await store.append_conversation_turn(
                    "s", "[]", now=1.0, bounds=ConversationBounds()
                )
                done.set()

            group.start_soon(remember)
            with anyio.fail_after(5):  # the turn went to the thread ...
                assert await anyio.to_thread.run_sync(in_thread.wait, 5)
            for _ in range(100):  # ... and the loop runs on while it waits there
                await anyio.lowlevel.checkpoint()
            assert not done.is_set()
            other.execute("COMMIT")
            with anyio.fail_after(5):
                await done.wait()

    tried = [s for where, _, s in seen if where == "loop"]
    assert tried == ["BEGIN IMMEDIATE"]  # refused at once: nothing was written there
    waited = [s for where, _, s in seen if where == "thread"]
    assert waited[0] == "PRAGMA synchronous = NORMAL"  # no fsync in the thread either
    assert "COMMIT" in waited
    assert waited[-1] == "PRAGMA synchronous = FULL"
    assert _synchronous(store._connection) == FULL
    assert (await store.load_conversation("s", now=2.0, idle_s=60)).turns == ("[]",)
    other.close()
    await store.aclose()


async def test_a_failed_turn_on_the_loop_changes_nothing(tmp_path: Path) -> None:
    store, _ = await _opened(tmp_path / "tabs.sqlite3")
    with pytest.raises(AttributeError):  # a body that is no text: found mid-transaction
        await store.append_conversation_turn("s", None, now=1.0, bounds=ConversationBounds())  # type: ignore[arg-type]
    assert store._loop_connection is not None
    assert not store._loop_connection.in_transaction
    assert _synchronous(store._connection) == FULL
    assert _synchronous(store._loop_connection) == NORMAL
    assert (await store.load_conversation("s", now=2.0, idle_s=60)).turns == ()
    await store.aclose()


async def test_a_normal_store_is_never_toggled(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path, synchronous="NORMAL")
    with _traced(store) as seen:
        await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
        await manager.order("s", "Water")
    assert not any(s.startswith("PRAGMA synchronous") for _, _, s in seen)
    assert _synchronous(store._connection) == NORMAL
    await store.aclose()


async def test_a_private_database_keeps_one_connection(tmp_path: Path) -> None:
    # A second connection to ":memory:" would be another, empty database.
    store, manager = await _opened(Path(":memory:"))
    await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
    await manager.order("s", "Water")
    assert store._loop_connection is None
    assert (await store.load_conversation("s", now=2.0, idle_s=60)).turns == ("[]",)
    assert len((await manager.get("s")).items) == 1
    await store.aclose()


async def test_closing_closes_both_connections(tmp_path: Path) -> None:
    store, manager = await _opened(tmp_path / "tabs.sqlite3")
    loop_connection = store._loop_connection
    assert loop_connection is not None
    await store.aclose()
    with pytest.raises(sqlite3.ProgrammingError):
        loop_connection.execute("SELECT 1")
    with pytest.raises(StoreError):
        await store.load_conversation("s", now=1.0, idle_s=60)
    with pytest.raises(StoreError):
        await manager.get("s")


async def test_two_stores_opening_one_new_file_at_once_both_work(tmp_path: Path) -> None:
    # Both put the new file in WAL mode at once: SQLite refuses one at once ("database is
    # locked", no busy wait), which must find WAL set or try again (failed ~1 in 20).
    for attempt in range(60):
        path = tmp_path / f"tabs-{attempt}.sqlite3"
        stores = SqliteTabStore(path), SqliteTabStore(path)
        async with anyio.create_task_group() as group:
            for n, store in enumerate(stores):
                group.start_soon(
                    functools.partial(
                        store.append_conversation_turn,
                        "s",
                        f"turn {n}",
                        now=1.0,
                        bounds=ConversationBounds(),
                    )
                )
        assert (await stores[0].load_conversation("s", now=1.0, idle_s=60)).count == 2
        for store in stores:
            await store.aclose()


async def test_a_call_after_closing_began_is_refused_while_a_queued_one_finishes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path, busy_timeout=10.0)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the order below waits for it, in the thread
    in_thread = threading.Event()
    ordered: list[int] = []
    with _traced(store, in_thread):
        async with anyio.create_task_group() as group:

            async def order() -> None:
                ordered.append((await manager.order("s", "Water")).tab_cents)

            group.start_soon(order)
            with anyio.fail_after(5):
                assert await anyio.to_thread.run_sync(in_thread.wait, 5)
            group.start_soon(store.aclose)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(StoreError):  # closing began: nothing new runs, on the loop
                await store.load_conversation("s", now=1.0, idle_s=60)
            other.execute("COMMIT")
    assert ordered == [100]  # queued before the close: it finished
    other.close()
