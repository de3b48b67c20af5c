"""Live notifications: ``TabManager.watch`` on every store, and across processes on PostgreSQL."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from maya.bar import load_menu
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.sql.notify import channel_for, notification_payload, parse_payload
from maya.state.store import TabStore

from .conftest import Backend

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("_worker.py")


async def test_a_watcher_sees_the_current_state_then_each_change(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await manager.order("s1", "Martini")
    with anyio.fail_after(10):
        async with manager.watch("s1") as updates:
            first = await updates.__anext__()
            assert first.tab_cents == 1300
            await manager.order("s1", "Negroni")
            second = await updates.__anext__()
            assert second.tab_cents == 2400
            assert second.version > first.version
            await manager.set_tip("s1", 15)
            third = await updates.__anext__()
            assert third.tip_percent == 15


async def test_a_slow_watcher_gets_the_latest_state_not_a_queue(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    with anyio.fail_after(10):
        async with manager.watch("slow") as updates:
            await updates.__anext__()
            for _ in range(5):
                await manager.order("slow", "Water")
            latest = await updates.__anext__()
            assert latest.tab_cents == 500
            # Nothing else is waiting: the four states in between were never kept.
            assert await updates.next_within(0.05) is None


async def test_a_watcher_hears_only_its_own_session(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    with anyio.fail_after(10):
        async with manager.watch("mine") as updates:
            await updates.__anext__()
            await manager.order("theirs", "Martini")
            assert await updates.next_within(0.05) is None
            await manager.order("mine", "IPA")
            state = await updates.__anext__()
            assert state.session_id == "mine"
            assert state.tab_cents == 600


async def test_a_refused_change_notifies_nobody(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    with anyio.fail_after(10):
        async with manager.watch("refused") as updates:
            await updates.__anext__()
            with pytest.raises(StateError):
                await manager.set_tip("refused", 12)
            assert await updates.next_within(0.05) is None


async def test_many_watchers_of_one_session_each_get_the_change(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    seen: list[int] = []

    async def watcher(ready: anyio.Event) -> None:
        async with manager.watch("bar") as updates:
            await updates.__anext__()
            ready.set()
            state = await updates.__anext__()
            seen.append(state.tab_cents)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            readies = [anyio.Event() for _ in range(5)]
            for ready in readies:
                group.start_soon(watcher, ready)
            for ready in readies:
                await ready.wait()
            await manager.order("bar", "Tap Beer")
    assert seen == [500] * 5


async def test_a_bad_session_id_is_refused_before_subscribing(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    with pytest.raises(StateError):
        manager.watch("no spaces allowed")


def test_payloads_round_trip_and_channels_differ_per_schema() -> None:
    assert parse_payload(notification_payload("web-abc:1", 42)) == ("web-abc:1", 42)
    assert parse_payload("garbage") is None
    assert parse_payload("x s") is None
    assert channel_for(None) == "maya_tabs"
    assert channel_for("a") != channel_for("b")
    assert len(channel_for("x" * 200)) < 63


@pytest.mark.postgres
async def test_another_store_s_change_reaches_watchers_through_notify(pg_backend: Backend) -> None:
    here, there = pg_backend.open(), pg_backend.open()
    try:
        watching, writing = (
            TabManager(here, catalog=load_menu()),
            TabManager(there, catalog=load_menu()),
        )
        with anyio.fail_after(20):
            async with watching.watch("shared") as first, watching.watch("shared") as second:
                assert (await first.__anext__()).tab_cents == 0
                await second.__anext__()
                await writing.order("shared", "Martini")
                assert (await first.__anext__()).tab_cents == 1300
                assert (await second.__anext__()).tab_cents == 1300
            # The block that ran the feed has ended; a later watcher listens again.
            async with watching.watch("shared") as third:
                assert (await third.__anext__()).tab_cents == 1300
                await writing.order("shared", "Water")
                assert (await third.__anext__()).tab_cents == 1400
    finally:
        await here.aclose()
        await there.aclose()


async def _listeners(conninfo: str, channel: str) -> list[int]:
    """The server's backends whose last statement was ``LISTEN`` on ``channel``."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as connection:
        cursor = await connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE query = %s ORDER BY pid",
            (f'LISTEN "{channel}"',),
        )
        return [int(row[0]) for row in await cursor.fetchall()]


async def _until_nobody_listens(conninfo: str, channel: str) -> None:
    for _ in range(200):  # a closed connection's backend ends a moment later
        if not await _listeners(conninfo, channel):
            return
        await anyio.sleep(0.05)
    raise AssertionError(f"still listening on {channel}")


@pytest.mark.postgres
async def test_when_the_listening_watcher_leaves_another_takes_over(pg_backend: Backend) -> None:
    """On the same connection (no reconnect); the last watcher to leave closes it."""
    from maya.state.sql.postgres import PostgresTabStore

    here, there = pg_backend.open(), pg_backend.open()
    assert isinstance(here, PostgresTabStore)
    try:
        watching, writing = (
            TabManager(here, catalog=load_menu()),
            TabManager(there, catalog=load_menu()),
        )
        channel, conninfo = here.change_feed().channel, here._conninfo
        leave, left, ready = anyio.Event(), anyio.Event(), anyio.Event()

        async def first_watcher() -> None:
            async with watching.watch("handover") as updates:
                await updates.__anext__()
                ready.set()
                await leave.wait()
            left.set()

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                group.start_soon(first_watcher)
                await ready.wait()
                # The first block runs the feed; when it ends, this one must take over.
                async with watching.watch("handover") as staying:
                    await staying.__anext__()
                    listening = await _listeners(conninfo, channel)
                    assert len(listening) == 1
                    leave.set()
                    await left.wait()
                    await writing.order("handover", "Gin")
                    assert (await staying.__anext__()).tab_cents == 800
                    # Heard on the same backend: handed over, not reconnected.
                    assert await _listeners(conninfo, channel) == listening
            await _until_nobody_listens(conninfo, channel)  # nobody watches: closed
    finally:
        await here.aclose()
        await there.aclose()


@pytest.mark.postgres
async def test_a_feed_handed_over_keeps_listening_on_its_connection(pg_backend: Backend) -> None:
    """A run cancelled (its watcher left) leaves the connection listening: the next run
    hears what was committed in between, without reconnecting or re-reading."""
    import psycopg

    from maya.state.sql.postgres import PostgresTabStore

    store = pg_backend.open()
    assert isinstance(store, PostgresTabStore)
    conninfo = store._conninfo
    feed = store.change_feed()  # a channel of this test's own schema
    channel = feed.channel
    readies: list[int] = []
    heard: list[tuple[str, int]] = []
    listening, arrived = anyio.Event(), anyio.Event()

    async def on_ready() -> None:
        readies.append(1)
        listening.set()

    async def on_change(session_id: str, version: int) -> None:
        heard.append((session_id, version))
        arrived.set()

    with anyio.fail_after(20):
        async with anyio.create_task_group() as group:
            group.start_soon(feed.run, on_ready, on_change)
            await listening.wait()
            group.cancel_scope.cancel()
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as other:
            await other.execute(
                "SELECT pg_notify(%s, %s)", (channel, notification_payload("between", 7))
            )
        assert len(await _listeners(conninfo, channel)) == 1  # still on, for nobody
        async with anyio.create_task_group() as group:
            group.start_soon(feed.run, on_ready, on_change)
            await arrived.wait()
            group.cancel_scope.cancel()
        assert heard == [("between", 7)]
        assert len(readies) == 1  # the same connection: nothing to re-read
        await feed.release()
        await _until_nobody_listens(conninfo, channel)
        listening = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(feed.run, on_ready, on_change)
            await listening.wait()  # released: the next run listens afresh
            group.cancel_scope.cancel()
        assert len(readies) == 2
        await feed.release()
    await store.aclose()


@pytest.mark.slow
@pytest.mark.postgres
async def test_an_order_from_another_os_process_reaches_a_watcher(pg_backend: Backend) -> None:
    store = pg_backend.open()
    try:
        manager = TabManager(store, catalog=load_menu())
        request = {
            "op": "orders",
            "url": pg_backend.url,
            "session": "remote",
            "item": "Martini",
            "count": 1,
        }
        with anyio.fail_after(30):
            async with manager.watch("remote") as updates:
                assert (await updates.__anext__()).tab_cents == 0
                done = await anyio.run_process(
                    [sys.executable, str(WORKER), json.dumps(request)], check=False
                )
                assert done.returncode == 0, done.stderr.decode(errors="replace")
                assert json.loads(done.stdout)["accepted"] == 1
                state = await updates.__anext__()
                assert state.tab_cents == 1300
                assert [item.name for item in state.items] == ["Martini"]
    finally:
        await store.aclose()


@pytest.mark.postgres
async def test_a_payment_event_applied_elsewhere_reaches_watchers(pg_backend: Backend) -> None:
    from maya.state.events import COMPLETED, PaymentEvent

    here, there = pg_backend.open(), pg_backend.open()
    try:
        watching, webhook = (
            TabManager(here, catalog=load_menu()),
            TabManager(there, catalog=load_menu()),
        )
        await watching.order("paid", "Martini")
        started = await watching.begin_payment("paid")
        await watching.record_payment_link(
            "paid",
            idempotency_key=started.payment.idempotency_key,
            payment_id="plink_paid",
            url="https://buy.stripe.com/test_paid",
            is_simulated=False,
        )
        with anyio.fail_after(20):
            async with watching.watch("paid") as updates:
                assert (await updates.__anext__()).tab_cents == 1300
                await webhook.apply_payment_event(
                    PaymentEvent(
                        event_id="evt_paid",
                        type=COMPLETED,
                        payment_id="plink_paid",
                        payment_status="paid",
                        amount_total=1300,
                        created=1,
                    )
                )
                settled = await updates.__anext__()
                assert settled.tab_cents == 0
                assert settled.payment_status.value == "completed"
    finally:
        await here.aclose()
        await there.aclose()
