"""Writes made together on the event loop share one SQLite commit, and one fsync.

A durable write on the loop opens a transaction on the loop's FULL connection; the writes
made before the loop's next turn join it, each in a savepoint of its own, and the first
commits it for all. Each write is answered only once that commit ended; a refused one
changes nothing; a database error, or a commit that fails, fails them all and keeps
nothing; nothing of it is visible to another connection before it is durable.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.conversations import ConversationBounds
from maya.state.errors import StateError, StoreError
from maya.state.manager import TabManager
from maya.state.sql.sqlite import SqliteTabStore

pytestmark = pytest.mark.anyio

WATER = 100  # cents, on the bar's menu


async def _opened(path: Path, balance: int = 10_000) -> tuple[SqliteTabStore, TabManager]:
    # However slowly the disk syncs while the suite runs, tab changes stay on the loop.
    store = SqliteTabStore(path, loop_sync_s=60.0)
    manager = TabManager(store, starting_balance_cents=balance, catalog=load_menu())
    await manager.get("s0")  # the first call opens the file (in the thread)
    return store, manager


def _items_seen_elsewhere(path: Path, session_id: str) -> int:
    """How many items of ``session_id`` another connection (another process) sees."""
    other = sqlite3.connect(path)
    try:
        row = other.execute(
            "SELECT COUNT(*) FROM tab_items WHERE session_id = ?", (session_id,)
        ).fetchone()
        return int(row[0])
    finally:
        other.close()


async def _together(*calls: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Start every call in the same turn of the loop; each one's result or exception."""
    results: list[Any] = [None] * len(calls)

    async def run(index: int) -> None:
        try:
            results[index] = await calls[index]()
        except Exception as exc:
            results[index] = exc

    async with anyio.create_task_group() as group:
        for index in range(len(calls)):
            group.start_soon(run, index)
    return results


async def test_writes_made_together_share_one_commit_and_are_answered_after_it(
    tmp_path: Path,
) -> None:
    store, manager = await _opened(tmp_path / "tabs.sqlite3")
    assert store._loop_synced is not None and store._loop_connection is not None
    events: list[str] = []
    store._loop_synced.set_trace_callback(events.append)
    store._loop_connection.set_trace_callback(lambda said: events.append(f"normal {said}"))

    def ordering(session_id: str) -> Callable[[], Awaitable[object]]:
        async def order() -> object:
            state = await manager.order(session_id, "Water")
            events.append(f"answered {session_id}")
            return state

        return order

    async def remember() -> None:
        await store.append_conversation_turn("s2", "[]", now=1.0, bounds=ConversationBounds())
        events.append("answered turn")

    await _together(ordering("s1"), remember, ordering("s2"), ordering("s3"))
    store._loop_synced.set_trace_callback(None)
    store._loop_connection.set_trace_callback(None)

    verbs = [e for e in events if e.split()[0] in ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")]
    # One transaction, one commit, four writes in savepoints (the remembered turn too:
    # it joins rather than waiting for the lock).
    assert verbs == ["BEGIN IMMEDIATE"] + ["SAVEPOINT write", "RELEASE write"] * 4 + ["COMMIT"]
    assert not [e for e in events if e.startswith("normal") and "COMMIT" in e]
    committed = events.index("COMMIT")
    answered = [i for i, e in enumerate(events) if e.startswith("answered")]
    assert len(answered) == 4 and min(answered) > committed  # nobody answered before it
    for session_id in ("s1", "s2", "s3"):
        assert _items_seen_elsewhere(tmp_path / "tabs.sqlite3", session_id) == 1
        # Remembered once committed, so the session's next write reads only its row.
        kept = store._known._states.get(session_id)
        assert kept is not None and len(kept.items) == 1
    assert (await store.load_conversation("s2", now=2.0, idle_s=60)).turns == ("[]",)
    await store.aclose()


async def test_a_refused_write_changes_nothing_while_the_others_commit(tmp_path: Path) -> None:
    store, manager = await _opened(tmp_path / "tabs.sqlite3", balance=150)
    await manager.order("poor", "Water")  # 50 cents left: a second Water is refused
    results = await _together(
        lambda: manager.order("a", "Water"),
        lambda: manager.order("poor", "Water"),
        lambda: manager.order("b", "Water"),
    )
    assert isinstance(results[1], StateError)
    assert results[1].code == ErrorCode.INSUFFICIENT_FUNDS
    assert [len(results[i].items) for i in (0, 2)] == [1, 1]
    poor = await manager.get("poor")
    assert (len(poor.items), poor.balance_cents) == (1, 50)  # exactly as it was
    for session_id, count in (("a", 1), ("poor", 1), ("b", 1)):
        assert _items_seen_elsewhere(tmp_path / "tabs.sqlite3", session_id) == count
    await store.aclose()


async def test_a_write_that_raises_midway_keeps_none_of_its_statements(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path)
    await manager.order("a", "Water")

    async def midway(driver: Any) -> None:
        await driver.execute("DELETE FROM tab_items WHERE session_id = :s", {"s": "a"})
        raise RuntimeError("a rule failed after its first statement")

    results = await _together(
        lambda: manager.order("b", "Water"),
        lambda: store._write(midway, lambda _: (True, None)),
    )
    assert isinstance(results[1], RuntimeError)
    assert _items_seen_elsewhere(path, "a") == 1  # rolled back to its savepoint
    assert _items_seen_elsewhere(path, "b") == 1  # the other write kept
    await store.aclose()


async def test_no_write_is_seen_elsewhere_before_the_shared_commit(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path)
    seen_meanwhile: list[int] = []

    def look_then_change(state: Any) -> tuple[Any, None]:
        # Runs inside the shared transaction, after s1's order joined it: another
        # connection must not see that order yet.
        seen_meanwhile.append(_items_seen_elsewhere(path, "s1"))
        return state, None

    await _together(
        lambda: manager.order("s1", "Water"),
        lambda: store.transact("s2", lambda: manager._new_tab("s2"), look_then_change),
    )
    assert seen_meanwhile == [0]
    assert _items_seen_elsewhere(path, "s1") == 1  # and once answered, it is
    await store.aclose()


async def test_a_database_error_fails_every_write_of_the_shared_commit(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path)

    async def broken(driver: Any) -> None:
        await driver.fetchone("SELECT * FROM no_such_table", {})

    results = await _together(
        lambda: manager.order("s1", "Water"),
        lambda: store._write(broken, lambda _: (True, None)),
        lambda: manager.order("s2", "Water"),
    )
    # The first order and the broken write shared the commit: both fail, nothing kept.
    # The second order came after the failure ended it, so it committed on its own.
    assert isinstance(results[0], StoreError) and isinstance(results[1], StoreError)
    assert results[0].code == ErrorCode.STORE_UNAVAILABLE
    assert "no_such_table" in str(results[1])
    assert not isinstance(results[2], Exception)
    assert _items_seen_elsewhere(path, "s1") == 0
    assert _items_seen_elsewhere(path, "s2") == 1
    assert (await manager.get("s1")).items == ()
    assert store._shared is None and not store._loop_synced.in_transaction  # type: ignore[union-attr]
    assert len((await manager.order("s1", "Water")).items) == 1  # and it goes on
    await store.aclose()


async def test_a_commit_that_fails_fails_every_write_and_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path)
    connection = store._loop_synced
    assert connection is not None

    def no_commit(action: int, arg1: str | None, *_: object) -> int:
        # SQLite asks before a COMMIT: refusing it is a commit that fails.
        refused = action == sqlite3.SQLITE_TRANSACTION and arg1 == "COMMIT"
        return sqlite3.SQLITE_DENY if refused else sqlite3.SQLITE_OK

    connection.set_authorizer(no_commit)
    results = await _together(
        lambda: manager.order("s1", "Water"), lambda: manager.order("s2", "Water")
    )
    connection.set_authorizer(None)
    assert all(isinstance(result, StoreError) for result in results)
    assert not connection.in_transaction and store._shared is None
    for session_id in ("s1", "s2"):
        assert _items_seen_elsewhere(path, session_id) == 0
        assert (await manager.get(session_id)).items == ()  # nor remembered as written
    await store.aclose()


async def test_a_cancelled_write_still_commits_with_the_others(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path)
    finished: list[str] = []

    async def order(session_id: str) -> None:
        await manager.order(session_id, "Water")
        finished.append(session_id)

    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(order, "s1")
            group.start_soon(order, "s2")
            await anyio.lowlevel.checkpoint()  # both have written and wait for the commit
            scope.cancel()
    # Their writes were made: the commit is not abandoned, whoever stops waiting.
    for session_id in ("s1", "s2"):
        assert _items_seen_elsewhere(path, session_id) == 1
    assert store._shared is None and not store._loop_synced.in_transaction  # type: ignore[union-attr]
    await store.aclose()


async def test_closing_commits_the_open_shared_commit_first(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    store, manager = await _opened(path)
    results: list[object] = []

    async def order() -> None:
        results.append(await manager.order("s1", "Water"))

    async with anyio.create_task_group() as group:
        group.start_soon(order)
        await anyio.lowlevel.checkpoint()  # the order has written, and waits for its commit
        assert store._shared is not None
        await store.aclose()
    assert len(results) == 1  # answered: its write was committed before the file closed
    assert _items_seen_elsewhere(path, "s1") == 1


async def test_random_writes_together_keep_the_books(tmp_path: Path) -> None:
    # Orders, some refused for want of balance, on a few sessions at once: every answer
    # given is what was stored, and every balance is the start less what was accepted.
    path = tmp_path / "tabs.sqlite3"
    start = 450
    store, manager = await _opened(path, balance=start)
    rng = random.Random(24)
    sessions = [f"r{n}" for n in range(4)]
    accepted = dict.fromkeys(sessions, 0)
    refused = 0
    for _ in range(12):
        chosen = [rng.choice(sessions) for _ in range(rng.randint(1, 6))]
        results = await _together(
            *(lambda s=s: manager.order(s, "Water", quantity=rng.randint(1, 2)) for s in chosen)
        )
        for session_id, result in zip(chosen, results, strict=True):
            if isinstance(result, StateError):
                assert result.code == ErrorCode.INSUFFICIENT_FUNDS
                refused += 1
                continue
            assert not isinstance(result, Exception), result
            accepted[session_id] = start - result.balance_cents  # the latest it was told
    assert refused > 0  # the balance ran out somewhere: refusals were exercised
    for session_id in sessions:
        state = await manager.get(session_id)
        assert start - state.balance_cents == sum(item.quantity * WATER for item in state.items)
        assert state.balance_cents >= 0
        assert start - state.balance_cents >= accepted[session_id]
    # Read back by another connection: the same items as this store's own view.
    for session_id in sessions:
        assert _items_seen_elsewhere(path, session_id) == len((await manager.get(session_id)).items)
    await store.aclose()
