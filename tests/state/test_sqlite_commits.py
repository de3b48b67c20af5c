"""Where SQLite's work runs and which commits wait for the disk.

A tab's change commits on the event loop and waits for the disk (on the loop's FULL
connection), unless the disk syncs slowly: then in the worker thread. A remembered turn
commits on the loop without waiting for the disk (its NORMAL connection), and reads run
there too; neither loop connection is ever set back and forth. Work on the loop never
waits for a lock: it goes to the thread, which does.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.conversations import ConversationBounds
from maya.state.errors import StoreError
from maya.state.manager import TabManager
from maya.state.sql.sqlite import PROBE_EVERY, SqliteTabStore

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
    connections = {
        "thread's": store._connection,
        "loop's": store._loop_connection,
        "loop's synced": store._loop_synced,  # a FULL store's only
    }
    connections = {name: found for name, found in connections.items() if found is not None}
    assert len(connections) >= 2
    for name, connection in connections.items():

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
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed meanwhile
                connection.set_trace_callback(None)


async def _waited_for(
    store: SqliteTabStore, other: sqlite3.Connection, call: Callable[[], Awaitable[object]]
) -> list[tuple[str, str, str]]:
    """Run ``call`` while ``other`` holds the write lock: it must go to the thread and
    wait there while the loop runs on, and finish once ``other`` commits. What ran where."""
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    in_thread = threading.Event()
    with _traced(store, in_thread) as seen:
        async with anyio.create_task_group() as group:
            done = anyio.Event()

            async def run() -> None:
                await call()
                done.set()

            group.start_soon(run)
            with anyio.fail_after(5):  # the call went to the thread ...
                assert await anyio.to_thread.run_sync(in_thread.wait, 5)
            for _ in range(100):  # ... and the loop runs on while it waits there
                await anyio.lowlevel.checkpoint()
            assert not done.is_set()
            other.execute("COMMIT")
            with anyio.fail_after(5):
                await done.wait()
    return seen


async def _opened(path: Path, **options: object) -> tuple[SqliteTabStore, TabManager]:
    store = SqliteTabStore(path, **options)  # type: ignore[arg-type]
    manager = TabManager(store, catalog=load_menu())
    await manager.get("s")  # the first call opens the file (in the thread)
    return store, manager


async def test_a_turn_a_tab_and_reads_run_on_the_loop_the_tab_synced(tmp_path: Path) -> None:
    # FULL: the default; however slowly the disk syncs meanwhile, tabs stay on the loop.
    store, manager = await _opened(tmp_path / "tabs.sqlite3", loop_sync_s=60.0)
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
    # The tab's commit waits for the disk, on the loop's FULL connection: nothing set.
    assert [s for _, _, s in order if s.startswith(("PRAGMA", "BEGIN", "COMMIT"))] == [
        "BEGIN IMMEDIATE",
        "COMMIT",
    ]
    assert {(where, name) for where, name, _ in order} == {("loop", "loop's synced")}
    assert reads and {(where, name) for where, name, _ in reads} == {("loop", "loop's")}
    assert _synchronous(store._connection) == FULL
    assert _synchronous(store._loop_connection) == NORMAL  # a turn's does not wait
    assert _synchronous(store._loop_synced) == FULL
    assert store._sync_s is not None and store._sync_s > 0  # the tab's commit was timed
    assert (await store.load_conversation("s", now=2.0, idle_s=60)).turns == ("[]",)
    await store.aclose()


async def test_a_locked_file_sends_the_turn_to_the_thread_which_waits(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, _ = await _opened(path, busy_timeout=10.0)
    other = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    seen = await _waited_for(
        store,
        other,
        lambda: store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds()),
    )
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


class _Timer:
    """A fake ``perf_counter`` whose every other reading is ``step`` seconds later: a
    commit timed by two readings took ``step``."""

    def __init__(self, step: float) -> None:
        self.step, self.now, self._calls = step, 0.0, 0

    def __call__(self) -> float:
        self._calls += 1
        if self._calls % 2 == 0:
            self.now += self.step
        return self.now


def _where_committed(seen: list[tuple[str, str, str]]) -> list[str]:
    return [where for where, _, s in seen if s == "COMMIT"]


async def test_a_slow_disk_sends_tab_commits_to_the_thread_until_it_is_fast_again(
    tmp_path: Path,
) -> None:
    timer = _Timer(0.010)  # every sync on the loop takes 10 ms: ten times the bound
    store, manager = await _opened(tmp_path / "tabs.sqlite3", loop_sync_s=0.001, timer=timer)
    with _traced(store) as seen:
        await manager.order("s", "Water")  # not timed yet: tried on the loop
        assert _where_committed(seen) == ["loop"]
        seen.clear()
        for _ in range(PROBE_EVERY - 1):
            await manager.order("s", "Water")
        assert _where_committed(seen) == ["thread"] * (PROBE_EVERY - 1)
        assert _synchronous(store._connection) == FULL  # the thread's commits wait too
        seen.clear()
        await manager.order("s", "Water")  # a probe: is the disk fast again? No
        assert _where_committed(seen) == ["loop"]
        seen.clear()
        timer.step = 0.0001  # the disk is fast again
        for _ in range(2 * PROBE_EVERY):
            await manager.order("s", "Water")
        # The next probe finds it so, and every commit after it stays on the loop.
        assert _where_committed(seen) == ["thread"] * (PROBE_EVERY - 1) + ["loop"] * (
            PROBE_EVERY + 1
        )
        seen.clear()
        timer.step = 0.003  # slow again: a few commits move the average over the bound
        for _ in range(30):
            await manager.order("s", "Water")
        where = _where_committed(seen)
        assert 1 < where.index("thread") < 30 and set(where[where.index("thread") :]) == {"thread"}
        seen.clear()
        await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
        assert _where_committed(seen) == ["loop"]  # a turn's commit needs no disk
    assert len((await manager.get("s")).items) == 3 * PROBE_EVERY + 31  # every order kept
    await store.aclose()


async def test_a_shared_commit_is_timed_for_each_of_its_writes(tmp_path: Path) -> None:
    # A commit shared by four writes that holds the loop 3 ms holds it 0.75 ms for each:
    # within a 1 ms bound, as a lone write of 0.75 ms would be. Lone writes of 3 ms then
    # move the average over it, and the tab's commits go to the thread.
    timer = _Timer(0.003)
    store, manager = await _opened(tmp_path / "tabs.sqlite3", loop_sync_s=0.001, timer=timer)
    with _traced(store) as seen:
        for _ in range(3):
            async with anyio.create_task_group() as group:
                for n in range(4):
                    group.start_soon(manager.order, f"s{n}", "Water")
        assert _where_committed(seen) == ["loop"] * 3  # one commit for each four
        assert store._sync_s == pytest.approx(0.00075)
        seen.clear()
        for _ in range(3):
            await manager.order("s0", "Water")
        assert _where_committed(seen) == ["loop", "loop", "thread"]
    assert len((await manager.get("s0")).items) == 6
    await store.aclose()


async def test_a_slow_sync_is_one_among_many(tmp_path: Path) -> None:
    # One slow sync (a checkpoint) among fast ones does not move the tab's commits.
    timer = _Timer(0.0002)
    store, manager = await _opened(tmp_path / "tabs.sqlite3", loop_sync_s=0.001, timer=timer)
    with _traced(store) as seen:
        for n in range(20):
            timer.step = 0.005 if n == 10 else 0.0002
            await manager.order("s", "Water")
    assert _where_committed(seen) == ["loop"] * 20
    await store.aclose()


async def test_loop_sync_zero_always_commits_tabs_in_the_thread(tmp_path: Path) -> None:
    store, manager = await _opened(tmp_path / "tabs.sqlite3", loop_sync_s=0)
    with _traced(store) as seen:
        await manager.order("s", "Water")
        await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
    assert _where_committed(seen) == ["thread", "loop"]
    assert [s for where, _, s in seen if where == "thread" and s.startswith("PRAGMA")] == []
    assert _synchronous(store._connection) == FULL
    await store.aclose()


@pytest.mark.parametrize("value", [-0.001, float("nan")])
def test_a_negative_loop_sync_is_refused(tmp_path: Path, value: float) -> None:
    with pytest.raises(ValueError, match="loop_sync_s"):
        SqliteTabStore(tmp_path / "tabs.sqlite3", loop_sync_s=value)


async def test_a_failed_tab_change_on_the_loop_changes_nothing(tmp_path: Path) -> None:
    # However slowly the disk syncs while the suite runs, tab changes stay on the loop.
    store, manager = await _opened(tmp_path / "tabs.sqlite3", loop_sync_s=60.0)
    await manager.order("s", "Water")

    def broken(state: object) -> object:
        raise RuntimeError("the transition failed mid-transaction")

    with _traced(store) as seen, pytest.raises(RuntimeError):
        await store.transact("s", lambda: None, broken)  # type: ignore[arg-type]
    assert ("loop", "loop's synced", "ROLLBACK TO write") in seen  # its savepoint
    assert store._loop_synced is not None
    assert not store._loop_synced.in_transaction
    assert _synchronous(store._loop_synced) == FULL
    assert len((await manager.get("s")).items) == 1
    await store.aclose()


async def test_a_locked_file_sends_the_tab_to_the_thread_which_waits_and_syncs(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path, busy_timeout=10.0, loop_sync_s=60.0)
    await manager.order("s", "Water")  # timed on the loop: within the bound
    other = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    seen = await _waited_for(store, other, lambda: manager.order("s", "Gin"))
    tried = [s for where, _, s in seen if where == "loop"]
    # Refused at once on the loop: nothing written there.
    assert tried == ["BEGIN IMMEDIATE"]
    waited = [s for where, _, s in seen if where == "thread"]
    assert waited[0] == "BEGIN IMMEDIATE" and waited[-1] == "COMMIT"  # FULL: it syncs
    assert _synchronous(store._connection) == FULL
    assert _synchronous(store._loop_connection) == NORMAL
    assert [item.name for item in (await manager.get("s")).items] == ["Water", "Gin"]
    other.close()
    await store.aclose()


async def test_a_lock_held_past_the_busy_timeout_leaves_each_connection_as_it_was(
    tmp_path: Path,
) -> None:
    # BEGIN IMMEDIATE itself fails (refused on the loop, timed out in the thread): the
    # commit's synchronous is still set back, so the thread's next tab change syncs.
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path, busy_timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with anyio.fail_after(5):
        with pytest.raises(StoreError) as remembered:
            await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
        with pytest.raises(StoreError) as ordered:
            await manager.order("s", "Water")
    assert remembered.value.code == ordered.value.code == ErrorCode.STORE_BUSY
    other.execute("ROLLBACK")
    other.close()
    assert _synchronous(store._connection) == FULL
    assert _synchronous(store._loop_connection) == NORMAL
    assert (await manager.get("s")).items == ()
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
    assert store._loop_synced is None  # its tab changes need no FULL connection
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
