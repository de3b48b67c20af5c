"""Which SQLite commits wait for the disk: a tab's change always, a remembered turn not."""

from __future__ import annotations

from pathlib import Path

import pytest

from maya.bar import load_menu
from maya.state.conversations import ConversationBounds
from maya.state.manager import TabManager
from maya.state.sql.sqlite import SqliteTabStore

pytestmark = pytest.mark.anyio


def _synchronous(store: SqliteTabStore) -> int:
    return int(store._connect().execute("PRAGMA synchronous").fetchone()[0])


async def test_a_turn_commits_without_fsync_and_the_tab_with_it(tmp_path: Path) -> None:
    store = SqliteTabStore(tmp_path / "tabs.sqlite3")  # FULL: the default
    manager = TabManager(store, catalog=load_menu())
    await manager.get("s")
    statements: list[str] = []
    store._connect().set_trace_callback(statements.append)

    await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
    turn = statements[:]
    statements.clear()
    await manager.order("s", "Water")
    order = statements[:]

    assert turn[0] == "PRAGMA synchronous = NORMAL"
    assert turn[-1] == "PRAGMA synchronous = FULL"
    assert "COMMIT" in turn
    assert not any(s.startswith("PRAGMA synchronous") for s in order)
    assert "COMMIT" in order
    assert _synchronous(store) == 2  # FULL again for the next tab change
    await store.aclose()


async def test_a_failed_turn_still_restores_full(tmp_path: Path) -> None:
    store = SqliteTabStore(tmp_path / "tabs.sqlite3")
    await TabManager(store, catalog=load_menu()).get("s")
    with pytest.raises(Exception):  # noqa: B017 - any failure of the write
        await store.append_conversation_turn("s", None, now=1.0, bounds=ConversationBounds())  # type: ignore[arg-type]
    assert _synchronous(store) == 2
    await store.aclose()


async def test_a_normal_store_is_left_normal(tmp_path: Path) -> None:
    store = SqliteTabStore(tmp_path / "tabs.sqlite3", synchronous="NORMAL")
    await TabManager(store, catalog=load_menu()).get("s")
    statements: list[str] = []
    store._connect().set_trace_callback(statements.append)
    await store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
    assert not any(s.startswith("PRAGMA synchronous") for s in statements)
    assert _synchronous(store) == 1
    await store.aclose()
