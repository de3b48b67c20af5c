"""Stripe's Checkout events applied exactly once, on every store.

The same event five times (one after another and all at once), an event racing the
polling path, an event that arrives before its link is recorded, events out of order,
the async outcomes, and an old database upgraded to the event table.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.errors import StateError
from maya.state.events import (
    ASYNC_FAILED,
    ASYNC_SUCCEEDED,
    COMPLETED,
    EXPIRED,
    EventOutcome,
    PaymentEvent,
    session_of_idempotency_key,
)
from maya.state.manager import TabManager
from maya.state.models import PaymentRecord, PaymentStatus
from maya.state.open import open_store
from maya.state.sql import _schema
from maya.state.sql.sqlite import SqliteTabStore
from maya.state.store import TabStore

from .conftest import Backend

pytestmark = pytest.mark.anyio

LINK = "plink_test_1"
MARTINI = 1300


def event(
    n: int | str,
    type_: str = COMPLETED,
    *,
    link: str | None = LINK,
    status: str | None = "paid",
    amount: int | None = MARTINI,
    created: int = 1_000,
    session: str | None = "cs_test_1",
) -> PaymentEvent:
    return PaymentEvent(
        checkout_session=session,
        event_id=f"evt_{n}",
        type=type_,
        payment_id=link,
        payment_status=status,
        amount_total=amount,
        created=created,
    )


async def begin(manager: TabManager, session: str = "bar") -> PaymentRecord:
    await manager.order(session, "Martini")
    return (await manager.begin_payment(session)).payment


async def record(
    manager: TabManager, record: PaymentRecord, session: str = "bar", link: str = LINK
) -> None:
    await manager.record_payment_link(
        session,
        idempotency_key=record.idempotency_key,
        payment_id=link,
        url=f"https://buy.stripe.com/test_{link}",
        is_simulated=False,
    )


async def tab_with_link(manager: TabManager, session: str = "bar", link: str = LINK) -> None:
    await record(manager, await begin(manager, session), session, link)


async def test_a_paid_completed_event_settles_the_tab(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    result = await manager.apply_payment_event(event(1))
    assert result.outcome is EventOutcome.SETTLED
    assert result.session_id == "bar"
    state = await manager.get("bar")
    assert state.tab_cents == 0
    assert state.payment_status is PaymentStatus.COMPLETED
    assert state.payments[-1].amount_paid_cents == MARTINI
    assert await store.event_outcome("evt_1") is EventOutcome.SETTLED  # type: ignore[attr-defined]


async def test_the_same_event_five_times_in_a_row_settles_once(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    await manager.order("bar", "Water")  # after the snapshot: stays on the tab
    outcomes = [(await manager.apply_payment_event(event(1))).outcome for _ in range(5)]
    assert outcomes == [EventOutcome.SETTLED] + [EventOutcome.DUPLICATE] * 4
    state = await manager.get("bar")
    assert state.tab_cents == 100
    assert state.balance_cents == 100_000 - MARTINI - 100
    assert state.credit_cents == 0


async def test_the_same_event_five_times_at_once_settles_once(backend: Backend) -> None:
    # Five deliveries through up to five stores on one database: five workers.
    stores = [backend.open() for _ in range(5)]
    try:
        manager = TabManager(stores[0], catalog=load_menu())
        await tab_with_link(manager)
        version = (await manager.get("bar")).version
        outcomes: list[EventOutcome] = []

        async def deliver(store: TabStore) -> None:
            outcomes.append(
                (await TabManager(store, catalog=load_menu()).apply_payment_event(event(1))).outcome
            )

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for store in stores:
                    group.start_soon(deliver, store)
        assert sorted(outcomes) == sorted([EventOutcome.SETTLED] + [EventOutcome.DUPLICATE] * 4)
        state = await TabManager(
            backend.open() if backend.kind != "memory" else stores[0], catalog=load_menu()
        ).get("bar")
        assert state.tab_cents == 0
        assert state.version == version + 1
    finally:
        for store in stores:
            await store.aclose()


async def test_webhook_and_polling_racing_settle_once(backend: Backend) -> None:
    webhook_store, polling_store = backend.open(), backend.open()
    try:
        setup = TabManager(webhook_store, catalog=load_menu())
        for n in range(10):
            await tab_with_link(setup, f"race{n}", f"plink_race{n}")
        applied = 0

        async def webhook(n: int) -> None:
            nonlocal applied
            result = await TabManager(webhook_store, catalog=load_menu()).apply_payment_event(
                event(n, link=f"plink_race{n}")
            )
            applied += result.outcome is EventOutcome.SETTLED

        async def poll(n: int) -> None:
            nonlocal applied
            result = await TabManager(polling_store, catalog=load_menu()).settle_payment(
                f"race{n}", f"plink_race{n}", amount_paid_cents=MARTINI
            )
            applied += result.applied

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for n in range(10):
                    group.start_soon(webhook, n)
                    group.start_soon(poll, n)
        assert applied == 10
        for n in range(10):
            state = await setup.get(f"race{n}")
            assert state.tab_cents == 0
            assert state.credit_cents == 0
            assert not state.needs_reconciliation
            assert state.balance_cents == 100_000 - MARTINI
    finally:
        await webhook_store.aclose()
        await polling_store.aclose()


async def test_an_event_before_the_link_is_recorded_is_applied_when_it_is(
    store: TabStore,
) -> None:
    manager = TabManager(store, catalog=load_menu())
    payment = await begin(manager)
    early = await manager.apply_payment_event(event(1))
    assert early.outcome is EventOutcome.PENDING
    assert (await manager.get("bar")).tab_cents == MARTINI  # nothing applied yet
    await record(manager, payment)
    state = await manager.get("bar")
    assert state.tab_cents == 0
    assert state.payment_status is PaymentStatus.COMPLETED
    assert state.payments[-1].url == f"https://buy.stripe.com/test_{LINK}"
    assert await store.event_outcome("evt_1") is EventOutcome.SETTLED  # type: ignore[attr-defined]
    again = await manager.apply_payment_event(event(1))
    assert again.outcome is EventOutcome.DUPLICATE
    assert again.first_outcome is EventOutcome.SETTLED
    assert (await manager.get("bar")).version == state.version


async def test_events_racing_the_recording_of_their_link_are_never_lost(
    backend: Backend,
) -> None:
    webhook_store, tool_store = backend.open(), backend.open()
    try:
        tool = TabManager(tool_store, catalog=load_menu())
        payments = [await begin(tool, f"early{n}") for n in range(8)]

        async def webhook(n: int) -> None:
            await TabManager(webhook_store, catalog=load_menu()).apply_payment_event(
                event(n, link=f"plink_e{n}")
            )

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for n, payment in enumerate(payments):
                    group.start_soon(webhook, n)
                    group.start_soon(record, tool, payment, f"early{n}", f"plink_e{n}")
        for n in range(8):
            state = await tool.get(f"early{n}")
            assert state.tab_cents == 0, n
            assert state.payment_status is PaymentStatus.COMPLETED
    finally:
        await webhook_store.aclose()
        await tool_store.aclose()


async def test_completed_after_expired_still_settles(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    version = (await manager.get("bar")).version
    expired = await manager.apply_payment_event(event("exp", EXPIRED, status="unpaid", created=900))
    assert expired.outcome is EventOutcome.EXPIRED
    state = await manager.get("bar")
    assert (state.version, state.tab_cents) == (version, MARTINI)
    assert (await manager.apply_payment_event(event(2, created=800))).outcome is (
        EventOutcome.SETTLED
    )
    assert (await manager.get("bar")).tab_cents == 0


async def test_expired_or_failed_after_settlement_changes_nothing(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    await manager.apply_payment_event(event(1))
    settled = await manager.get("bar")
    for n, type_ in enumerate((EXPIRED, ASYNC_FAILED)):
        result = await manager.apply_payment_event(event(f"late{n}", type_, status="unpaid"))
        assert result.outcome is EventOutcome.ALREADY_SETTLED
    assert await manager.get("bar") == settled


async def test_an_async_payment_waits_then_fails_then_succeeds(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    waiting = await manager.apply_payment_event(event(1, status="unpaid"))
    assert waiting.outcome is EventOutcome.AWAITING
    assert (await manager.get("bar")).payment_status is PaymentStatus.PENDING
    failed = await manager.apply_payment_event(event(2, ASYNC_FAILED, status="unpaid"))
    assert failed.outcome is EventOutcome.FAILED
    state = await manager.get("bar")
    assert state.payment_status is PaymentStatus.FAILED
    assert (state.tab_cents, state.balance_cents) == (MARTINI, 100_000 - MARTINI)
    # The customer pays again with another method; Stripe reports the new outcome.
    await manager.apply_payment_event(event(3, status="unpaid"))
    succeeded = await manager.apply_payment_event(event(4, ASYNC_SUCCEEDED))
    assert succeeded.outcome is EventOutcome.SETTLED
    assert (await manager.get("bar")).tab_cents == 0


async def test_a_second_checkout_session_paid_on_a_settled_link_is_credit(
    store: TabStore,
) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    assert (await manager.apply_payment_event(event(1))).outcome is EventOutcome.SETTLED
    # The same session reported again under another event id is the same money.
    same = await manager.apply_payment_event(event(2, ASYNC_SUCCEEDED))
    assert same.outcome is EventOutcome.ALREADY_SETTLED
    again = await manager.apply_payment_event(event(3, session="cs_test_2"))
    assert again.outcome is EventOutcome.OVERPAID
    state = await manager.get("bar")
    assert (state.tab_cents, state.credit_cents) == (0, MARTINI)
    assert state.needs_reconciliation
    assert (await manager.apply_payment_event(event(3, session="cs_test_2"))).outcome is (
        EventOutcome.DUPLICATE
    )
    assert (await manager.get("bar")).credit_cents == MARTINI


async def test_two_sessions_paid_before_the_link_is_recorded_are_both_kept(
    store: TabStore,
) -> None:
    manager = TabManager(store, catalog=load_menu())
    payment = await begin(manager)
    await manager.apply_payment_event(event(1, created=1))
    await manager.apply_payment_event(event(2, created=2, session="cs_test_2"))
    await record(manager, payment)
    state = await manager.get("bar")
    assert (state.tab_cents, state.credit_cents, state.needs_reconciliation) == (0, MARTINI, True)
    assert await store.event_outcome("evt_2") is EventOutcome.OVERPAID  # type: ignore[attr-defined]


async def test_polling_first_then_the_event_of_the_same_payment_changes_nothing(
    store: TabStore,
) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    await manager.settle_payment("bar", LINK, amount_paid_cents=MARTINI)
    settled = await manager.get("bar")
    result = await manager.apply_payment_event(event(1))
    assert result.outcome is EventOutcome.ALREADY_SETTLED
    assert await manager.get("bar") == settled


async def test_other_event_types_and_unknown_links_change_nothing(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    before = await manager.get("bar")
    other = await manager.apply_payment_event(event(1, "payment_intent.succeeded"))
    assert other.outcome is EventOutcome.IGNORED
    no_link = await manager.apply_payment_event(event(2, link=None))
    assert no_link.outcome is EventOutcome.IGNORED
    unknown = await manager.apply_payment_event(event(3, link="plink_someone_else"))
    assert unknown.outcome is EventOutcome.PENDING
    assert await manager.get("bar") == before
    assert await store.session_ids() == ["bar"]


async def test_a_listener_hears_of_a_settlement_by_event(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await tab_with_link(manager)
    heard: list[tuple[str, int]] = []
    manager.add_listener(lambda op, _before, after: heard.append((op, after.tab_cents)))
    await manager.apply_payment_event(event(1))
    await manager.apply_payment_event(event(1))
    assert heard == [("payment_event", 0)]


def test_the_session_is_read_from_the_idempotency_key() -> None:
    assert session_of_idempotency_key("web_a_b_1764400000_v3") == "web_a_b"
    assert session_of_idempotency_key("bar_1764400000_v12") == "bar"
    for bad in (None, "", "nokey", "bar_x_v1", "bar_123_3", "_123_v1"):
        assert session_of_idempotency_key(bad) is None


async def test_a_version_1_database_is_upgraded_with_the_event_table(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(_schema.SCHEMA_TABLE_DDL)
        for statement in _schema.DDL:
            connection.execute(statement)
        connection.execute("INSERT INTO maya_schema (id, version) VALUES (1, 1)")
    async with SqliteTabStore(path) as store:
        manager = TabManager(store, catalog=load_menu())
        await tab_with_link(manager)
        assert (await manager.apply_payment_event(event(1))).outcome is EventOutcome.SETTLED
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version FROM maya_schema").fetchone() == (
            _schema.SCHEMA_VERSION,
        )
        rows = connection.execute("SELECT event_id, outcome, session_id FROM stripe_events")
        assert rows.fetchall() == [("evt_1", "settled", "bar")]


async def test_an_event_survives_a_restart_as_pending(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    first = open_store(url)
    manager = TabManager(first, catalog=load_menu())
    payment = await begin(manager)
    await manager.apply_payment_event(event(1))
    await first.aclose()
    second = open_store(url)
    try:
        await record(TabManager(second, catalog=load_menu()), payment)
        assert (await TabManager(second, catalog=load_menu()).get("bar")).tab_cents == 0
    finally:
        await second.aclose()


async def test_a_version_1_postgres_schema_is_upgraded_with_the_event_table(
    pg_backend: Backend,
) -> None:
    import psycopg
    from psycopg import sql

    from .conftest import postgres_url

    url = postgres_url()
    assert url is not None
    schema = pg_backend.url.split("schema=")[1].split("&")[0]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        connection.execute(_schema.SCHEMA_TABLE_DDL)
        for statement in _schema.DDL:
            connection.execute(statement)
        connection.execute("INSERT INTO maya_schema (id, version) VALUES (1, 1)")
    store = pg_backend.open()
    try:
        manager = TabManager(store, catalog=load_menu())
        await tab_with_link(manager)
        assert (await manager.apply_payment_event(event(1))).outcome is EventOutcome.SETTLED
    finally:
        await store.aclose()
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        assert connection.execute("SELECT version FROM maya_schema").fetchone() == (
            _schema.SCHEMA_VERSION,
        )


async def test_a_stale_link_paid_before_it_was_recorded_still_applies(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    stale = await begin(manager)  # one Martini
    paid = await manager.apply_payment_event(event(1))
    assert paid.outcome is EventOutcome.PENDING
    await manager.order("bar", "Water")  # the tab moves on: a new snapshot supersedes
    await manager.begin_payment("bar")
    with pytest.raises(StateError) as refused:
        await record(manager, stale)
    assert refused.value.code is ErrorCode.PAYMENT_SUPERSEDED
    state = await manager.get("bar")
    [old] = [r for r in state.payments if r.idempotency_key == stale.idempotency_key]
    assert (old.payment_id, old.status) == (LINK, PaymentStatus.COMPLETED)
    assert state.tab_cents == 100  # the Martini is paid; the Water is still owed
    assert await store.event_outcome("evt_1") is EventOutcome.SETTLED  # type: ignore[attr-defined]


async def test_a_stale_link_paid_after_it_was_refused_is_found_by_its_metadata(
    store: TabStore,
) -> None:
    manager = TabManager(store, catalog=load_menu())
    stale = await begin(manager)
    await manager.order("bar", "Water")
    await manager.begin_payment("bar")
    with pytest.raises(StateError):
        await record(manager, stale)  # refused and (by the tool) deactivated: too late
    late = PaymentEvent(
        event_id="evt_late",
        type=COMPLETED,
        payment_id=LINK,
        payment_status="paid",
        amount_total=MARTINI,
        created=2_000,
        idempotency_key=stale.idempotency_key,
        checkout_session="cs_late",
    )
    result = await manager.apply_payment_event(late)
    assert (result.outcome, result.session_id) == (EventOutcome.SETTLED, "bar")
    state = await manager.get("bar")
    assert state.tab_cents == 100
    assert (await manager.apply_payment_event(late)).outcome is EventOutcome.DUPLICATE
    # Without our metadata there is no telling whose it is: kept, not guessed.
    anonymous = await manager.apply_payment_event(event(9, link="plink_other"))
    assert anonymous.outcome is EventOutcome.PENDING


async def test_a_version_2_database_gains_the_link_write_mark(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(_schema.SCHEMA_TABLE_DDL)
        for statement in (*_schema.DDL, *_schema.EVENTS_DDL):
            connection.execute(statement)
        connection.execute("INSERT INTO maya_schema (id, version) VALUES (1, 2)")
    async with SqliteTabStore(path) as store:
        manager = TabManager(store, clock=lambda: 1_700_000_000.0, catalog=load_menu())
        await manager.order("v2", "Negroni")
        record = (await manager.begin_payment("v2")).payment
        _, mark = await manager.mark_link_write(
            "v2", idempotency_key=record.idempotency_key, expected=None, within_s=10.0
        )
    async with SqliteTabStore(path) as reopened:
        stored = await reopened.load("v2")
    assert mark is not None and stored is not None
    assert stored.payments[0].link_write_until == mark == 1_700_000_015.0
