"""Overlay updates under overload: every watcher ends on the settled state.

Another "worker" (a second manager on the same tabs) commits many changes to many
sessions, ending with each one's payment settled by its webhook event, and announces each
commit through a change feed, as PostgreSQL ``NOTIFY`` does; the
watching manager's store is overloaded (most reads fail ``STORE_BUSY``) and its
watchers read slowly. Latest-wins may skip states in between, but no watcher may end on
anything but the last committed state. On PostgreSQL the same runs for real, with the
watching side's pool smaller than its watchers.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

import anyio
import anyio.lowlevel
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state import MemoryTabStore, StoreError, TabManager, TabState
from maya.state.events import COMPLETED, PaymentEvent
from maya.state.models import PaymentStatus
from maya.state.store import TabStore, Transition
from maya.state.watch import TabUpdates

from .conftest import Backend

pytestmark = pytest.mark.anyio

R = TypeVar("R")

SESSIONS = 60
WATCHERS_PER_SESSION = 2
ORDERS_PER_SESSION = 5


class MemoryFeed:
    """A ``ChangeFeed`` fed by hand: what ``NOTIFY`` would deliver, in commit order."""

    def __init__(self) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[tuple[str, int]](math.inf)

    def close(self) -> None:
        self._send.close()
        self._receive.close()

    def announce(self, session_id: str, version: int) -> None:
        self._send.send_nowait((session_id, version))

    async def run(
        self,
        on_ready: Callable[[], Awaitable[None]],
        on_change: Callable[[str, int], Awaitable[None]],
        *,
        watched: Callable[[], Collection[str]] = tuple,
    ) -> None:
        await on_ready()
        async for session_id, version in self._receive:
            await on_change(session_id, version)

    async def release(self) -> None:
        """Nothing to close: every run starts afresh (and calls ``on_ready``)."""


class OverloadedStore:
    """The watching worker's view of the shared tabs: reads yield and mostly fail."""

    def __init__(self, inner: TabStore, feed: MemoryFeed) -> None:
        self.inner = inner
        self.feed = feed
        self.overloaded = False
        self.loads = 0

    def change_feed(self) -> MemoryFeed:
        return self.feed

    async def load(self, session_id: str) -> TabState | None:
        self.loads += 1
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        if self.overloaded and self.loads % 4 != 0:
            raise StoreError("the pool is exhausted", code=ErrorCode.STORE_BUSY)
        return await self.inner.load(session_id)

    async def transact(
        self, session_id: str, initial: Callable[[], TabState], transition: Transition[R]
    ) -> tuple[TabState, R]:
        raise AssertionError("the watching side does not write")

    async def session_ids(self) -> list[str]:
        return await self.inner.session_ids()

    async def aclose(self) -> None:
        return None


class Progress:
    """Wakes the test each time any watcher receives a state."""

    def __init__(self) -> None:
        self.event = anyio.Event()

    def tick(self) -> None:
        self.event.set()

    async def wait(self) -> None:
        await self.event.wait()
        self.event = anyio.Event()


async def _slow_reader(updates: TabUpdates, seen: list[TabState], progress: Progress) -> None:
    async for state in updates:
        seen.append(state)
        progress.tick()
        for _ in range(50):  # a page on a slow connection: the hub runs ahead
            await anyio.lowlevel.checkpoint()


async def _settle(manager: TabManager, session: str) -> None:
    """Pay the tab as the webhook does: a link recorded, then its paid event applied."""
    started = await manager.begin_payment(session)
    payment_id = f"plink_{session}"
    await manager.record_payment_link(
        session,
        idempotency_key=started.payment.idempotency_key,
        payment_id=payment_id,
        url=f"https://buy.stripe.com/test_{session}",
        is_simulated=False,
    )
    result = await manager.apply_payment_event(
        PaymentEvent(
            event_id=f"evt_{session}",
            type=COMPLETED,
            payment_id=payment_id,
            payment_status="paid",
            amount_total=started.payment.snapshot.amount_cents,
            created=1,
        )
    )
    assert result.state is not None and result.state.tab_cents == 0


async def _run_load(
    watching: TabManager, writing: TabManager, overload: Callable[[], None] = lambda: None
) -> None:
    names = [f"load-{n}" for n in range(SESSIONS)]
    for name in names:
        await writing.order(name, "Water")  # the session exists before anyone watches
    seen: dict[str, list[list[TabState]]] = {
        name: [[] for _ in range(WATCHERS_PER_SESSION)] for name in names
    }
    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            entered = 0
            all_entered = anyio.Event()
            progress = Progress()

            async def watcher(name: str, index: int) -> None:
                nonlocal entered
                counted = False
                while True:  # as a page's EventSource reconnects when its stream ends
                    try:
                        async with watching.watch(name) as updates:
                            if not counted:
                                counted = True
                                entered += 1
                                if entered == len(names) * WATCHERS_PER_SESSION:
                                    all_entered.set()
                            await _slow_reader(updates, seen[name][index], progress)
                    except StoreError:
                        await anyio.sleep(0.01)

            for name in names:
                for index in range(WATCHERS_PER_SESSION):
                    group.start_soon(watcher, name, index)
            await all_entered.wait()
            overload()
            for _ in range(ORDERS_PER_SESSION):
                for name in names:
                    await writing.order(name, "Water")
            for name in names:
                await writing.set_tip(name, 15)
            for name in names:  # Pay, and the link paid: the settlement is the last change
                await _settle(writing, name)
            final = {name: (await writing.get(name)).version for name in names}
            while any(
                not states or states[-1].version != final[name]
                for name in names
                for states in seen[name]
            ):
                await progress.wait()
            group.cancel_scope.cancel()
    for name in names:
        for states in seen[name]:
            assert states[-1].payment_status is PaymentStatus.COMPLETED
            assert states[-1].tab_cents == 0
            versions = [s.version for s in states]
            assert versions == sorted(set(versions))  # never backwards, never twice


async def test_overlays_end_on_the_last_state_though_most_reads_fail() -> None:
    inner, feed = MemoryTabStore(), MemoryFeed()
    store = OverloadedStore(inner, feed)
    writing = TabManager(inner, catalog=load_menu())
    writing.add_listener(lambda _op, _before, after: feed.announce(after.session_id, after.version))
    # Reads keep failing while the writes go on, and for a while after the last one.
    try:
        await _run_load(
            TabManager(store, catalog=load_menu()),
            writing,
            overload=lambda: setattr(store, "overloaded", True),
        )
    finally:
        feed.close()
    assert store.loads > SESSIONS  # the failed reads were retried


@pytest.mark.postgres
async def test_overlays_end_on_the_last_state_across_postgres_stores(pg_backend: Backend) -> None:
    from maya.state import open_store

    there = pg_backend.open()
    # The watching worker has far fewer connections than watchers.
    here = open_store(f"{pg_backend.url}&pool_max_size=2")
    try:
        await _run_load(
            TabManager(here, catalog=load_menu()), TabManager(there, catalog=load_menu())
        )
    finally:
        await here.aclose()
        await there.aclose()


async def test_a_version_announced_again_is_not_read_again() -> None:
    """A feed that cannot tell which session a commit changed (SQLite's) announces every
    watched one: the hub reads only those newer than it has seen, a watcher's first read
    included (it came after the feed started, so no re-read on start covered it)."""
    inner, feed = MemoryTabStore(), MemoryFeed()
    store = OverloadedStore(inner, feed)
    writer, watching = (
        TabManager(inner, catalog=load_menu()),
        TabManager(store, catalog=load_menu()),
    )
    await writer.order("first", "Water")
    await writer.order("quiet", "Water")
    try:
        with anyio.fail_after(10):
            async with watching.watch("first") as first:
                await first.__anext__()
                for _ in range(100):  # the feed starts, and re-reads "first"
                    await anyio.lowlevel.checkpoint()
                async with watching.watch("quiet") as quiet:
                    seen = await quiet.__anext__()
                    loads = store.loads
                    changed = await writer.order("first", "Martini")
                    feed.announce("quiet", seen.version)  # unchanged
                    feed.announce("first", changed.version)
                    assert (await first.__anext__()).version == changed.version
                    for _ in range(100):
                        await anyio.lowlevel.checkpoint()
                    assert store.loads == loads + 1  # "first" only
                    assert await quiet.next_within(0) is None
    finally:
        feed.close()
