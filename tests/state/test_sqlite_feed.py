"""SQLite's change feed: another process's commits reach this process's watchers.

SQLite announces nothing; ``SqliteChangeFeed`` polls ``PRAGMA data_version`` and reads the
watched sessions' versions when another connection committed. The feed-level tests step
its sleep by hand; one test runs a real second OS process against the file.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from maya.bar import load_menu
from maya.state import SqliteTabStore, TabManager
from maya.state.sql.sqlite_feed import SqliteChangeFeed

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).with_name("_worker.py")


class SteppedSleep:
    """The feed's sleep: each returns when the test calls ``step`` (never real time)."""

    def __init__(self) -> None:
        self.asleep = 0
        self._go = anyio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asleep += 1
        await self._go.wait()

    async def step(self) -> None:
        """Let the feed look once, and wait until it sleeps again (its look is over)."""
        before = self.asleep
        go, self._go = self._go, anyio.Event()
        go.set()
        with anyio.fail_after(5):
            while self.asleep == before:
                await anyio.lowlevel.checkpoint()


class Heard:
    """What the feed announced."""

    def __init__(self) -> None:
        self.ready = 0
        self.changes: list[tuple[str, int]] = []

    async def on_ready(self) -> None:
        self.ready += 1

    async def on_change(self, session_id: str, version: int) -> None:
        self.changes.append((session_id, version))


@asynccontextmanager
async def running(
    feed: SqliteChangeFeed, heard: Heard, steps: SteppedSleep, watched: set[str]
) -> AsyncIterator[None]:
    """The feed running in the background, its first look made ready to be stepped."""
    async with anyio.create_task_group() as group:
        before = steps.asleep
        group.start_soon(
            lambda: feed.run(heard.on_ready, heard.on_change, watched=lambda: tuple(watched))
        )
        with anyio.fail_after(5):
            while steps.asleep == before:
                await anyio.lowlevel.checkpoint()
        yield
        group.cancel_scope.cancel()


async def test_another_connection_s_commit_is_announced_for_watched_sessions_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tabs.sqlite3"
    async with SqliteTabStore(path) as here, SqliteTabStore(path) as there:
        await TabManager(here, catalog=load_menu()).order("watched", "Water")  # the file
        elsewhere = TabManager(there, catalog=load_menu())
        steps, heard = SteppedSleep(), Heard()
        feed = SqliteChangeFeed(str(path), poll_s=1.0, sleep=steps.sleep)
        async with running(feed, heard, steps, {"watched"}):
            assert heard.ready == 1 and heard.changes == []
            await steps.step()
            assert heard.changes == []  # nobody committed: nothing read, nothing said
            done = await elsewhere.order("watched", "Martini")
            await elsewhere.order("unwatched", "Martini")
            await steps.step()
            assert heard.changes == [("watched", done.version)]
            await steps.step()
            assert heard.changes == [("watched", done.version)]  # said once
        await feed.release()


async def test_a_run_cancelled_between_looks_leaves_its_place_to_the_next(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tabs.sqlite3"
    async with SqliteTabStore(path) as here, SqliteTabStore(path) as there:
        await TabManager(here, catalog=load_menu()).order("s", "Water")
        elsewhere = TabManager(there, catalog=load_menu())
        steps, heard = SteppedSleep(), Heard()
        feed = SqliteChangeFeed(str(path), poll_s=1.0, sleep=steps.sleep)
        async with running(feed, heard, steps, {"s"}):
            pass
        # Committed while nobody looked: the next run finds it without starting over.
        done = await elsewhere.order("s", "Negroni")
        async with running(feed, heard, steps, {"s"}):
            await steps.step()
            assert heard.ready == 1 and heard.changes == [("s", done.version)]
        # Released: nobody watches; the next run starts afresh (and says it is ready).
        await feed.release()
        async with running(feed, heard, steps, {"s"}):
            assert heard.ready == 2
        await feed.release()


async def test_a_file_that_cannot_be_read_is_tried_again(tmp_path: Path) -> None:
    path = tmp_path / "not-yet.sqlite3"
    steps, heard = SteppedSleep(), Heard()
    feed = SqliteChangeFeed(str(path), poll_s=1.0, sleep=steps.sleep)
    async with running(feed, heard, steps, set()):
        assert heard.ready == 0  # no file: waiting before trying again, nothing said
        async with SqliteTabStore(path) as store:
            await TabManager(store, catalog=load_menu()).order("s", "Water")
            await steps.step()
            assert heard.ready == 1
    await feed.release()


def test_a_private_memory_database_has_no_feed_and_polling_must_be_positive() -> None:
    assert SqliteTabStore(":memory:").change_feed() is None
    with pytest.raises(ValueError, match="change_poll_s"):
        SqliteTabStore("x.sqlite3", change_poll_s=0)
    with pytest.raises(ValueError, match="poll_s"):
        SqliteChangeFeed("x.sqlite3", poll_s=-1)


async def test_an_order_from_another_os_process_reaches_a_watcher(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    async with SqliteTabStore(path, change_poll_s=0.02) as store:
        manager = TabManager(store, catalog=load_menu())
        request = {"op": "orders", "url": str(path), "session": "remote", "item": "Martini"}
        with anyio.fail_after(30):
            async with manager.watch("remote") as updates:
                assert (await updates.__anext__()).tab_cents == 0
                done = await anyio.run_process(
                    [sys.executable, str(WORKER), json.dumps({**request, "count": 1})],
                    check=False,
                )
                assert done.returncode == 0, done.stderr.decode(errors="replace")
                assert json.loads(done.stdout)["accepted"] == 1
                state = await updates.__anext__()
                assert state.tab_cents == 1300
                assert [item.name for item in state.items] == ["Martini"]
