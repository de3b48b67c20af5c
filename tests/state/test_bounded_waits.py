"""Every wait on a store is bounded, and every driver error is a ``StoreError`` naming it.

A session's row held by another connection makes an order fail within the store's
timeout (PostgreSQL's ``lock_timeout``, SQLite's ``busy_timeout``) with a retryable
``StoreError``; once the holder lets go, the same order goes through.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import anyio
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.manager import TabManager
from maya.state.models import TabState
from maya.state.open import StoreURLError, open_store
from maya.state.sql import PostgresTabStore, SqliteTabStore, StoreError

from . import _rules as transitions
from .conftest import Backend

pytestmark = pytest.mark.anyio

HOLD = 0.3
"""The store's timeout in these tests, in seconds."""
BOUND = 10.0
"""How long a test waits before calling the wait unbounded (a loaded machine is slow)."""


async def test_a_held_row_fails_a_postgres_order_within_the_lock_timeout(
    pg_backend: Backend,
) -> None:
    import psycopg

    url = f"{pg_backend.url}&lock_timeout={HOLD}"
    async with open_store(url) as store:  # type: ignore[attr-defined]
        assert isinstance(store, PostgresTabStore) and store.schema is not None
        manager = TabManager(store, catalog=load_menu())
        await manager.order("s", "Water")
        plain = pg_backend.url.split("?", 1)[0]
        with psycopg.connect(plain) as holder:  # a transaction stays open until the block ends
            holder.execute(
                f'SELECT * FROM "{store.schema}".tabs WHERE session_id = %s FOR UPDATE', ("s",)
            )
            with anyio.fail_after(BOUND), pytest.raises(StoreError) as caught:
                await manager.order("s", "Gin")
            holder.rollback()
        assert caught.value.code is ErrorCode.STORE_BUSY and caught.value.retryable
        assert "lock" in str(caught.value) and "PostgreSQL database" in str(caught.value)
        state = await manager.order("s", "Gin")
        assert [i.name for i in state.items] == ["Water", "Gin"] and state.version == 2


async def test_a_locked_sqlite_file_fails_an_order_within_the_busy_timeout(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteTabStore(path, busy_timeout=HOLD) as store:
        manager = TabManager(store, catalog=load_menu())
        await manager.order("s", "Water")
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with anyio.fail_after(BOUND), pytest.raises(StoreError) as caught:
                await manager.order("s", "Gin")
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert caught.value.code is ErrorCode.STORE_BUSY and caught.value.retryable
        assert str(path) in str(caught.value)
        state = await manager.order("s", "Gin")
        assert [i.name for i in state.items] == ["Water", "Gin"] and state.version == 2


async def test_calls_queued_behind_a_lock_wait_fail_within_the_busy_timeout_too(
    tmp_path: Path,
) -> None:
    """Orders of several sessions queue for the store's thread while the file is locked:
    each used to wait for those before it and then its own busy_timeout (the last of
    five answered after five timeouts); now every one fails within about one, retryable,
    and nothing is kept."""
    path = tmp_path / "s.sqlite3"
    async with SqliteTabStore(path, busy_timeout=HOLD, loop_sync_s=0) as store:
        manager = TabManager(store, catalog=load_menu())
        sessions = [f"s{n}" for n in range(5)]
        for session in sessions:
            await manager.order(session, "Water")
        holder = sqlite3.connect(path, isolation_level=None)
        took: dict[str, float] = {}
        codes: dict[str, ErrorCode] = {}

        async def order(session: str) -> None:
            started = anyio.current_time()
            try:
                await manager.order(session, "Gin")
            except StoreError as exc:
                codes[session] = exc.code
            took[session] = anyio.current_time() - started

        try:
            holder.execute("BEGIN IMMEDIATE")
            with anyio.fail_after(BOUND):
                async with anyio.create_task_group() as group:
                    for session in sessions:
                        group.start_soon(order, session)
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert codes == dict.fromkeys(sessions, ErrorCode.STORE_BUSY)
        # One timeout, and the one call in front still finishing its own: never five.
        assert max(took.values()) < 2.5 * HOLD, took
        for session in sessions:
            state = await manager.get(session)
            assert [i.name for i in state.items] == ["Water"]


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user, host = parts.netloc.rsplit("@", 1)
    return urlunsplit(parts._replace(netloc=f"{user.split(':')[0]}:{password}@{host}"))


async def test_a_nul_character_is_a_store_error_naming_the_database(
    pg_backend: Backend,
) -> None:
    # The local test server trusts its clients, so the password is accepted and unused.
    async with open_store(_with_password(pg_backend.url, "hunter2")) as store:  # type: ignore[attr-defined]

        def order_nul(state: TabState) -> tuple[TabState, None]:
            return transitions.order(
                state, name="Wa\x00ter", unit_price_cents=100, quantity=1, modifiers=()
            ), None

        with pytest.raises(StoreError) as caught:
            await store.transact("s", lambda: transitions.new_tab("s", 1000), order_nul)
        assert await store.load("s") is None
    text = str(caught.value)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE and not caught.value.retryable
    assert "NUL" in text and "PostgreSQL database" in text
    assert "hunter2" not in text and ":***@" in text


async def test_the_newer_schema_error_names_the_database(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteTabStore(path) as store:
        await store.session_ids()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE maya_schema SET version = version + 1")
    connection.close()
    async with SqliteTabStore(path) as store:
        with pytest.raises(StoreError, match="newer than this Maya") as caught:
            await store.load("s")
    assert str(path) in str(caught.value)


def test_postgres_timeouts_come_from_the_url_and_are_checked() -> None:
    store = open_store("postgresql://u@h/db?lock_timeout=0.5&statement_timeout=2")
    assert isinstance(store, PostgresTabStore)
    assert store._timeouts == {"lock_timeout": 500, "statement_timeout": 2000}
    default = open_store("postgresql://u@h/db")
    assert isinstance(default, PostgresTabStore)
    assert default._timeouts == {"lock_timeout": 5000, "statement_timeout": 10000}
    for bad in ("lock_timeout=soon", "statement_timeout=-1", "lock_timeout=nan"):
        with pytest.raises(StoreURLError, match="bad pool option"):
            open_store(f"postgresql://u:secret@h/db?{bad}")


async def test_the_model_is_told_a_busy_tab_is_worth_asking_again(tmp_path: Path) -> None:
    from maya.tools.toolset import Toolset

    path = tmp_path / "s.sqlite3"
    async with SqliteTabStore(path, busy_timeout=HOLD) as store:
        toolset = Toolset(manager=TabManager(store, catalog=load_menu()), payments=None)
        assert (await toolset.call("order_drink", {"name": "Water"}, "s"))["status"] == "ok"
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            with anyio.fail_after(BOUND):
                result = await toolset.call("order_drink", {"name": "Gin"}, "s")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    assert result["status"] == "error"
    assert result["error"] == "STORE_BUSY" and result["retryable"] is True
    assert str(path) not in str(result)  # the model hears Maya's words, not the file
