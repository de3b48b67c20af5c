"""Live tab notifications: ``TabManager.watch`` hands out ``TabUpdates``, latest wins.

Changes come from the manager's own writes and from the store's change feed (PostgreSQL's
``LISTEN``, SQLite's ``data_version`` polled):
a notification marks a session stale; a refresher reads it back, retrying with back-off.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Protocol

import anyio

from maya.state.errors import StoreError
from maya.state.models import TabState

if TYPE_CHECKING:
    from maya.state.manager import TabManager

__all__ = ["ChangeFeed", "TabUpdates", "WatchHub"]

_log = logging.getLogger("maya.state.watch")

REFRESH_CONCURRENCY = 4
"""Stale sessions read at once (each holds a pooled connection for one short read)."""
RETRY_FIRST_S = 0.05
"""The first wait before reading again sessions whose read failed; doubles each time."""
RETRY_MAX_S = 2.0
"""The longest wait between two attempts to read a stale session."""


class ChangeFeed(Protocol):
    """Notifications of committed changes made by any process sharing the database."""

    async def run(
        self,
        on_ready: Callable[[], Awaitable[None]],
        on_change: Callable[[str, int], Awaitable[None]],
        *,
        watched: Callable[[], Collection[str]] = tuple,
    ) -> None:
        """Listen until cancelled, reconnecting when the connection is lost.

        ``on_ready()`` is awaited each time listening (re)starts, after which every
        commit is announced as ``on_change(session_id, version)``; neither suspends. A
        run may leave its listening connection to the next run, which then goes on
        without ``on_ready`` (nothing was missed). ``watched()`` names the sessions
        someone watches now: a feed that cannot tell which sessions a commit changed
        (SQLite's) announces those.
        """
        ...

    async def release(self) -> None:
        """Stop listening for good: nobody watches now (a later run starts afresh)."""
        ...


class TabUpdates:
    """One subscriber's view of a session: an async iterator of its states, latest wins."""

    def __init__(self, session_id: str) -> None:
        """Subscribe to ``session_id`` (the hub fills it in)."""
        self.session_id = session_id
        self._pending: TabState | None = None
        self._delivered = -1
        self._wakeup = anyio.Event()
        self._closed = False

    def offer(self, state: TabState) -> None:
        """Make ``state`` the next one handed out, unless a newer one is already known."""
        newest = self._pending.version if self._pending is not None else self._delivered
        if state.version <= newest:
            return
        self._pending = state
        self._wakeup.set()

    def close(self) -> None:
        """End the iteration (the ``watch`` block is over)."""
        self._closed = True
        self._wakeup.set()

    def __aiter__(self) -> TabUpdates:
        return self

    async def __anext__(self) -> TabState:
        while self._pending is None:
            if self._closed:
                raise StopAsyncIteration
            await self._wakeup.wait()
            self._wakeup = anyio.Event()
        state, self._pending = self._pending, None
        self._delivered = state.version
        return state

    async def next_within(self, seconds: float = math.inf) -> TabState | None:
        """The next state, or None when none came within ``seconds`` (or the block ended)."""
        with anyio.move_on_after(seconds):
            try:
                return await self.__anext__()
            except StopAsyncIteration:
                return None
        return None


class WatchHub:
    """The subscribers of one ``TabManager``, fed by its writes and by a ``ChangeFeed``."""

    def __init__(
        self, manager: TabManager, *, sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    ) -> None:
        """Listen to ``manager``'s writes (and to its store's feed, if it has one).

        ``sleep`` waits between attempts to read a session whose read failed.
        """
        self._manager = manager
        self._sleep = sleep
        self._subscribers: dict[str, set[TabUpdates]] = {}
        self._known: dict[str, int] = {}
        # Session -> the newest version heard of and not read yet (-1: read whatever is
        # there, after a reconnect).
        self._stale: dict[str, int] = {}
        self._stale_added = anyio.Event()
        self._feed = manager.store.change_feed()
        self._feed_running = False
        self._feed_stopped = anyio.Event()
        manager.add_listener(self._on_write)

    def _publish(self, state: TabState) -> None:
        session = state.session_id
        if state.version > self._known.get(session, -1):
            self._known[session] = state.version
        wanted = self._stale.get(session)
        if wanted is not None and state.version >= wanted:
            del self._stale[session]  # read, or written here: nothing newer to fetch
        for updates in tuple(self._subscribers.get(session, ())):
            updates.offer(state)

    def _on_write(self, operation: str, before: TabState | None, after: TabState) -> None:
        if after.session_id in self._subscribers:
            self._publish(after)

    def _watched(self) -> tuple[str, ...]:
        return tuple(self._subscribers)

    def _mark_stale(self, session_id: str, version: int) -> None:
        if version > self._stale.get(session_id, -2):
            self._stale[session_id] = version
        self._stale_added.set()

    async def _on_change(self, session_id: str, version: int) -> None:
        # Our own writes come back through the feed too: already published.
        if session_id in self._subscribers and version > self._known.get(session_id, -1):
            self._mark_stale(session_id, version)

    async def _on_ready(self) -> None:
        # (Re)listening: anything committed while nobody listened is read now.
        for session_id in tuple(self._subscribers):
            self._mark_stale(session_id, -1)

    async def _read_stale(self, session_id: str) -> bool:
        """Read one stale session and publish it; False when the store failed."""
        if session_id not in self._subscribers:
            self._stale.pop(session_id, None)
            return True
        try:
            state = await self._manager.get(session_id)
        except StoreError as exc:
            _log.warning("cannot read %s after a change: %s", session_id, exc.message)
            return False
        self._publish(state)
        return True

    async def _refresh_stale(self) -> None:
        """Read stale sessions until cancelled; a failed read is retried, never dropped."""
        limiter = anyio.CapacityLimiter(REFRESH_CONCURRENCY)
        backoff = RETRY_FIRST_S
        while True:
            while not self._stale:
                await self._stale_added.wait()
                self._stale_added = anyio.Event()
            succeeded = 0

            async def read(session_id: str) -> None:
                nonlocal succeeded
                async with limiter:
                    succeeded += await self._read_stale(session_id)

            async with anyio.create_task_group() as group:
                for session_id in tuple(self._stale):
                    group.start_soon(read, session_id)
            if succeeded:
                backoff = RETRY_FIRST_S  # progress: an overloaded store, not a lost one
            else:
                await self._sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX_S)

    async def _serve_feed(self) -> None:
        """Run the shared feed while this block is open, unless another block runs it."""
        feed = self._feed
        assert feed is not None
        while self._feed_running:
            await self._feed_stopped.wait()
        self._feed_running = True
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._refresh_stale)
                await feed.run(self._on_ready, self._on_change, watched=self._watched)
        finally:
            self._feed_running = False
            stopped, self._feed_stopped = self._feed_stopped, anyio.Event()
            stopped.set()

    @asynccontextmanager
    async def watch(self, session_id: str) -> AsyncIterator[TabUpdates]:
        """Subscribe to ``session_id`` for the duration of the block (see ``TabManager``)."""
        updates = TabUpdates(session_id)
        self._subscribers.setdefault(session_id, set()).add(updates)
        try:
            # Subscribed first, read second: a change committed in between is either in
            # this read or offered afterwards (newer versions only); a feed this block
            # starts re-reads every watched session once it listens.
            # Published, not only offered: the version read is known, so a feed that
            # announces every watched session (SQLite's) does not have it read again.
            self._publish(await self._manager.get(session_id))
            async with anyio.create_task_group() as group:
                if self._feed is not None:
                    group.start_soon(self._serve_feed)
                try:
                    yield updates
                finally:
                    group.cancel_scope.cancel()
        finally:
            updates.close()
            group_of = self._subscribers.get(session_id)
            if group_of is not None:
                group_of.discard(updates)
                if not group_of:
                    del self._subscribers[session_id]
                    self._known.pop(session_id, None)
                    self._stale.pop(session_id, None)
            if not self._subscribers and self._feed is not None:
                # The last watcher left: the listening connection closes. While others
                # remain, whoever runs the feed next goes on on the same connection
                # (no reconnect, no re-read of every watched session).
                await self._feed.release()
