"""What only the SQL stores do: schema versions, constraints, closing, minimal writes."""

from __future__ import annotations

import itertools
import re
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.models import TabState
from maya.state.sql import SCHEMA_VERSION, PostgresTabStore, SqliteTabStore, StoreError
from maya.state.store import TabStore
from maya.testing import FakeClock

from . import _rules as transitions
from ._scenarios import EPOCH, rich_tab
from .conftest import Backend

pytestmark = pytest.mark.anyio

_WRITE = re.compile(r"^(INSERT INTO|UPDATE|DELETE FROM) \w+")


async def _link(manager: TabManager, session_id: str, payment_id: str) -> None:
    await manager.order(session_id, "Water")
    started = await manager.begin_payment(session_id)
    await manager.record_payment_link(
        session_id,
        idempotency_key=started.payment.idempotency_key,
        payment_id=payment_id,
        url="https://buy.stripe.com/test_x",
        is_simulated=True,
    )


async def test_a_payment_link_belongs_to_one_session_only(sql_backend: Backend) -> None:
    async with sql_backend.open() as store:  # type: ignore[attr-defined]
        manager = TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu())
        await _link(manager, "a", "plink_shared")
        await manager.order("b", "Water")
        started = await manager.begin_payment("b")
        before = await store.load("b")
        with pytest.raises(StateError) as caught:
            await manager.record_payment_link(
                "b",
                idempotency_key=started.payment.idempotency_key,
                payment_id="plink_shared",
                url="https://buy.stripe.com/test_y",
                is_simulated=True,
            )
        assert caught.value.code is ErrorCode.PAYMENT_SUPERSEDED
        assert await store.load("b") == before


async def test_a_transition_may_not_change_the_session_id(sql_backend: Backend) -> None:
    async with sql_backend.open() as store:  # type: ignore[attr-defined]

        def hijack(state: TabState) -> tuple[TabState, None]:
            return state.model_copy(update={"session_id": "other", "version": 1}), None

        with pytest.raises(ValueError, match="session id"):
            await store.transact("mine", lambda: transitions.new_tab("mine", 100), hijack)
        assert await store.session_ids() == []


async def test_a_closed_store_refuses_calls(sql_backend: Backend) -> None:
    store: TabStore = sql_backend.open()
    await TabManager(store, catalog=load_menu()).order("s", "Water")
    await store.aclose()
    with pytest.raises(StoreError, match="closed"):
        await store.load("s")
    with pytest.raises(StoreError, match="closed"):
        await TabManager(store, catalog=load_menu()).order("s", "Water")


async def test_a_store_that_was_never_used_closes_cleanly(sql_backend: Backend) -> None:
    store: TabStore = sql_backend.open()
    await store.aclose()
    with pytest.raises(StoreError):
        await store.session_ids()


def _sqlite_schema_version(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        row = connection.execute("SELECT version FROM maya_schema").fetchone()
    connection.close()
    return int(row[0])


async def test_sqlite_records_its_schema_version_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteTabStore(path) as store:
        await TabManager(store, catalog=load_menu()).order("s", "Water")
    assert _sqlite_schema_version(path) == SCHEMA_VERSION
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        connection.close()


async def test_sqlite_from_a_newer_maya_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    async with SqliteTabStore(path) as store:
        await store.session_ids()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("UPDATE maya_schema SET version = ?", (SCHEMA_VERSION + 1,))
    connection.close()
    async with SqliteTabStore(path) as store:
        with pytest.raises(StoreError, match="newer than this Maya"):
            await store.load("s")


async def test_sqlite_in_memory_works_for_one_store(tmp_path: Path) -> None:
    async with SqliteTabStore(":memory:") as store:
        state = await TabManager(store, catalog=load_menu()).order("s", "Martini")
        assert await store.load("s") == state


async def test_an_order_writes_one_tab_row_and_one_item_row(tmp_path: Path) -> None:
    # A slow disk (a loaded machine) would move the commits to the thread's connection.
    async with SqliteTabStore(tmp_path / "s.sqlite3", loop_sync_s=10.0) as store:
        manager = TabManager(store, catalog=load_menu())
        for _ in range(10):
            await manager.order("s", "Water")
        # A tab's change commits on the loop's FULL connection (its fsync there while the
        # disk is fast): tracing it shows every statement.
        connection = store._loop_synced
        assert connection is not None
        statements: list[str] = []
        connection.set_trace_callback(statements.append)
        try:
            await manager.order("s", "Gin")
        finally:
            connection.set_trace_callback(None)
    writes = [m.group(0) for s in statements if (m := _WRITE.match(s))]
    assert writes == ["UPDATE tabs", "INSERT INTO tab_items"]


async def test_postgres_from_a_newer_maya_is_refused(pg_backend: Backend) -> None:
    import psycopg

    async with pg_backend.open() as store:  # type: ignore[attr-defined]
        await store.session_ids()
        assert isinstance(store, PostgresTabStore) and store.schema is not None
        schema = store.schema
    url = pg_backend.url.rsplit("schema=", 1)[0].rstrip("?&")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'UPDATE "{schema}".maya_schema SET version = %s', (SCHEMA_VERSION + 1,))
        row = connection.execute(f'SELECT count(*) FROM "{schema}".maya_schema').fetchone()
        assert row == (1,)
    async with pg_backend.open() as store:  # type: ignore[attr-defined]
        with pytest.raises(StoreError, match="newer than this Maya") as caught:
            await store.load("s")
    assert "PostgreSQL database" in str(caught.value) and schema in str(caught.value)


async def test_postgres_unreachable_is_a_store_error_without_the_password() -> None:
    store = PostgresTabStore(
        "postgresql://maya:hunter2@127.0.0.1:1/nowhere", connect_timeout=0.5, min_size=1
    )
    with pytest.raises(StoreError) as caught:
        await store.load("s")
    assert "hunter2" not in str(caught.value)
    assert "maya:***@127.0.0.1:1" in str(caught.value)
    assert "hunter2" not in repr(store)
    await store.aclose()


def test_postgres_pool_sizes_are_checked() -> None:
    with pytest.raises(ValueError, match="pool sizes"):
        PostgresTabStore("postgresql://x@y/z", min_size=5, max_size=2)
    with pytest.raises(ValueError, match="pool sizes"):
        PostgresTabStore("postgresql://x@y/z", min_size=0, max_size=0)


async def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the tabs you are looking for" * 100)
    async with SqliteTabStore(path) as store:
        with pytest.raises(StoreError, match="not a database"):
            await store.load("s")


async def test_a_database_in_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    async with SqliteTabStore(tmp_path / "missing" / "s.sqlite3") as store:
        with pytest.raises(StoreError, match="unable to open"):
            await TabManager(store, catalog=load_menu()).order("s", "Water")


async def test_postgres_replaces_a_connection_the_server_dropped(pg_backend: Backend) -> None:
    import psycopg

    async with pg_backend.open() as store:  # type: ignore[attr-defined]
        assert isinstance(store, PostgresTabStore)
        manager = TabManager(store, catalog=load_menu())
        await manager.order("s", "Water")
        pool = store._pool
        assert pool is not None
        async with pool.connection() as connection:
            pid = connection.info.backend_pid
        url = pg_backend.url.split("?", 1)[0]
        with psycopg.connect(url, autocommit=True) as admin:
            # Waits (at most 10 s) until the backend has really gone: its goodbye is then
            # on the idle connection's socket, as when a server drops one while idle.
            gone = admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,)).fetchone()
            assert gone == (True,)
        # The idle connection is dead; the pool checks it at checkout and makes another.
        state = await manager.order("s", "Water")
        assert state.version == 2


def _grow(items: int) -> Callable[[TabState], tuple[TabState, None]]:
    """A plain rule (a bare new state, no ``Change``) that puts ``items`` Waters on the tab."""

    def grow(state: TabState) -> tuple[TabState, None]:
        for _ in range(items):
            state = transitions.order(
                state, name="Water", unit_price_cents=100, quantity=1, modifiers=()
            )
        return state, None

    return grow


async def _gin_traced(store: SqliteTabStore, manager: TabManager) -> tuple[TabState, list[str]]:
    """A Gin ordered for "s", and the statements sent where a tab's change commits."""
    connection = store._loop_synced
    assert connection is not None
    statements: list[str] = []
    connection.set_trace_callback(statements.append)
    try:
        return await manager.order("s", "Gin"), statements
    finally:
        connection.set_trace_callback(None)


async def test_an_order_on_a_known_long_tab_reads_nothing(tmp_path: Path) -> None:
    """The store remembers the tab it wrote: the order's write itself checks that the row
    still holds it (every value a read would return), so nothing is read, not even the
    tab's row."""
    async with SqliteTabStore(tmp_path / "s.sqlite3", loop_sync_s=10.0) as store:
        manager = TabManager(store, starting_balance_cents=10**9, catalog=load_menu())
        await store.transact("s", lambda: transitions.new_tab("s", 10**9), _grow(500))
        state, statements = await _gin_traced(store, manager)
    assert len(state.items) == 501 and state.items[-1].name == "Gin"
    verbs = [" ".join(s.split()[:4]) for s in statements]
    assert verbs == [
        "BEGIN IMMEDIATE",  # a shared commit, the order its only write, in a savepoint
        "SAVEPOINT write",
        "UPDATE tabs SET balance_cents",
        "INSERT INTO tab_items (session_id,",
        "RELEASE write",
        "COMMIT",
    ]
    assert "AND tab_cents = " in statements[2] and "AND version = " in statements[2]


async def test_a_remembered_tab_another_process_changed_is_read_before_it_is_written(
    sql_backend: Backend,
) -> None:
    """A store's remembered tab is a guess: when another process wrote the session since,
    the guarded write changes nothing and the store reads the row and applies the rule
    to what it holds; a rule refusing the remembered state is only believed once the
    row is read (a top-up elsewhere makes the order fit)."""
    mine, theirs = sql_backend.open(), sql_backend.open()
    try:
        first = TabManager(mine, starting_balance_cents=2_000, catalog=load_menu())
        second = TabManager(theirs, starting_balance_cents=2_000, catalog=load_menu())
        await first.order("s", "Water", quantity=2)  # remembered by the first store
        await second.order("s", "Gin")  # the first store's memory is now out of date
        state = await first.order("s", "Water")
        assert [item.name for item in state.items] == ["Water", "Gin", "Water"]
        assert state.tab_cents == sum(i.unit_price_cents * i.quantity for i in state.items)
        assert state.balance_cents == 2_000 - state.tab_cents
        # Refused on what the first store remembers, accepted on what the row holds.
        broke = await first.order("t", "Water", quantity=13)  # $13 of $20: $7 left
        assert broke.balance_cents == 700
        topped = await theirs.transact(
            "t",
            lambda: transitions.new_tab("t", 2_000),
            lambda s: (
                s.model_copy(update={"balance_cents": 10_000, "version": s.version + 1}),
                None,
            ),
        )
        assert topped[0].balance_cents == 10_000
        fits = await first.order("t", "Gin")  # $8: more than the $7 remembered
        assert (
            fits.balance_cents
            == 10_000 - next(i for i in fits.items if i.name == "Gin").unit_price_cents
        )
        # And a store remembering nothing reads the same rows.
        fresh = sql_backend.open()
        try:
            assert (await fresh.load("s")) == (await mine.load("s"))
            assert (await fresh.load("t")) == fits
        finally:
            await fresh.aclose()
    finally:
        await mine.aclose()
        await theirs.aclose()


def _cancel_last(state: TabState) -> tuple[TabState, None]:
    """A plain rule in the style others add: drop the last item and refund it."""
    last = state.items[-1]
    return state.model_copy(
        update={
            "items": state.items[:-1],
            "balance_cents": state.balance_cents + last.line_cents,
            "tab_cents": state.tab_cents - last.line_cents,
            "version": state.version + 1,
        }
    ), None


async def test_what_each_operation_wrote_is_what_another_store_reads(
    sql_backend: Backend,
) -> None:
    async with sql_backend.open() as store, sql_backend.open() as other:  # type: ignore[attr-defined]
        manager = TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu())
        written = await rich_tab(manager, "w")
        assert await other.load("w") == written
        steps: list[Callable[[], Awaitable[TabState]]] = [
            lambda: manager.order("w", "Negroni", 2),
            lambda: manager.set_tip("w", 10),
            lambda: _state(store.transact("w", lambda: _fresh("w"), _cancel_last)),
            lambda: _state(store.transact("w", lambda: _fresh("w"), _grow(3))),
            lambda: manager.reset("w"),
            lambda: manager.order("w", "Water"),
        ]
        for step in steps:
            state = await step()
            assert await other.load("w") == state
            assert await store.load("w") == state


async def _state(pending: Awaitable[tuple[TabState, None]]) -> TabState:
    return (await pending)[0]


def _fresh(session_id: str) -> TabState:
    return transitions.new_tab(session_id, 100_000)


async def test_a_write_by_another_store_is_seen_before_the_next_write(
    sql_backend: Backend,
) -> None:
    async with sql_backend.open() as mine, sql_backend.open() as theirs:  # type: ignore[attr-defined]
        await TabManager(mine, catalog=load_menu()).order("s", "Water")
        await TabManager(theirs, catalog=load_menu()).order("s", "Gin")
        after = await TabManager(mine, catalog=load_menu()).order("s", "Martini")
        assert [i.name for i in after.items] == ["Water", "Gin", "Martini"]
        assert after.version == 3 and after.tab_cents == 100 + 800 + 1300
        assert await mine.load("s") == after == await theirs.load("s")


async def test_a_store_that_keeps_no_states_reads_everything_and_agrees(tmp_path: Path) -> None:
    async with (
        SqliteTabStore(tmp_path / "s.sqlite3", known_sessions=0) as cold,
        SqliteTabStore(tmp_path / "s.sqlite3") as warm,
    ):
        state = await rich_tab(TabManager(cold, clock=FakeClock(EPOCH), catalog=load_menu()), "c")
        assert await warm.load("c") == state == await cold.load("c")


def _round_trips(trace: Path) -> int:
    """Round trips in a libpq protocol trace: each run of the client's messages that the
    server then answers (``F`` lines followed by ``B`` lines)."""
    sides = [line.split("\t")[1] for line in trace.read_text().splitlines() if "\t" in line]
    return sum(1 for pair in itertools.pairwise(sides) if pair == ("F", "B"))


@pytest.mark.postgres
async def test_postgres_sends_what_is_not_read_back_with_the_commit(
    pg_backend: Backend, tmp_path: Path
) -> None:
    """Counted in libpq's own trace of the one pooled connection: an order on a tab the
    store remembers is three round trips (BEGIN with the update guarded by the row's
    every value, the item, the announcement with COMMIT), where psycopg's transaction()
    took six and reading the row under lock first four; a conversation's first turn two
    (seven); a tab read whole four (six: BEGIN and SET leave with its first SELECT)."""
    from maya.state.conversations import ConversationBounds
    from maya.state.open import open_store

    store = open_store(f"{pg_backend.url}&pool_min_size=1&pool_max_size=1")
    other = pg_backend.open()
    assert isinstance(store, PostgresTabStore)
    try:
        manager = TabManager(store, catalog=load_menu())
        await manager.order("s", "Water")  # the row exists: later orders lock it
        await TabManager(other, catalog=load_menu()).order("cold", "Water")
        pool = store._pool
        assert pool is not None

        async def round_trips(operation: Awaitable[object]) -> int:
            trace = tmp_path / "trace.txt"
            with trace.open("w") as sink:
                async with pool.connection() as connection:
                    connection.pgconn.trace(sink.fileno())
                try:
                    await operation
                finally:
                    async with pool.connection() as connection:
                        connection.pgconn.untrace()  # flushes libpq's own buffer
            return _round_trips(trace)

        order = await round_trips(manager.order("s", "Water"))
        turn = await round_trips(
            store.append_conversation_turn("s", "[]", now=1.0, bounds=ConversationBounds())
        )
        # Written elsewhere: read whole (the row, its items, its payments).
        read = await round_trips(manager.get("cold"))
        assert (order, turn, read) == (3, 2, 4)
        assert len((await manager.get("s")).items) == 2
        assert (await store.load_conversation("s", now=2.0, idle_s=60)).turns == ("[]",)
        assert [item.name for item in (await manager.get("cold")).items] == ["Water"]
    finally:
        await store.aclose()
        await other.aclose()


@pytest.mark.postgres
async def test_postgres_a_statement_sent_ahead_that_fails_commits_nothing(
    pg_backend: Backend,
) -> None:
    # A turn's text with a NUL byte: PostgreSQL refuses it in the INSERT sent with the
    # COMMIT, after the conversation's count was raised; nothing of it may stay.
    from maya.state.conversations import ConversationBounds

    store = pg_backend.open()
    try:
        bounds = ConversationBounds()
        await store.append_conversation_turn("s", "first", now=1.0, bounds=bounds)
        with pytest.raises(StoreError):
            await store.append_conversation_turn("s", "bad\x00turn", now=2.0, bounds=bounds)
        kept = await store.load_conversation("s", now=3.0, idle_s=60)
        assert (kept.turns, kept.count) == (("first",), 1)
        await store.append_conversation_turn("s", "second", now=4.0, bounds=bounds)
        kept = await store.load_conversation("s", now=5.0, idle_s=60)
        assert (kept.turns, kept.count) == (("first", "second"), 2)
    finally:
        await store.aclose()


async def test_a_remembered_tab_is_written_only_if_every_value_of_its_row_still_matches(
    tmp_path: Path,
) -> None:
    """A row changed by hand (a restored backup, an operator's fix) with its version left
    as it was: the store's guarded write sees the difference, reads the row and applies
    the order to what it holds."""
    path = tmp_path / "tabs.sqlite3"
    async with SqliteTabStore(path) as store:
        manager = TabManager(store, starting_balance_cents=2_000, catalog=load_menu())
        before = await manager.order("s", "Water")
        with sqlite3.connect(path) as edit:
            edit.execute("UPDATE tabs SET balance_cents = 5000 WHERE session_id = 's'")
        after = await manager.order("s", "Water")
    assert after.version == before.version + 1
    assert after.balance_cents == 5_000 - 100  # from what the row held, not the memory


@pytest.mark.parametrize("tip", [None, 15])
async def test_a_remembered_tab_with_or_without_a_tip_is_written_without_a_read(
    tmp_path: Path, tip: int | None
) -> None:
    async with SqliteTabStore(tmp_path / "s.sqlite3", loop_sync_s=10.0) as store:
        manager = TabManager(store, catalog=load_menu())
        await manager.order("s", "Water")
        if tip is not None:
            await manager.set_tip("s", tip)
        state, statements = await _gin_traced(store, manager)
    assert state.tip_percent == tip and [i.name for i in state.items] == ["Water", "Gin"]
    assert not [s for s in statements if s.startswith("SELECT")]
