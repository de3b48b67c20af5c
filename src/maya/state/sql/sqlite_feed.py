"""``SqliteChangeFeed``: commits to a SQLite file by other processes, found by polling.

SQLite announces nothing, but each connection's ``PRAGMA data_version`` changes when
another connection commits. The feed asks it every ``poll_s`` on a read-only connection
of its own (a few microseconds, no lock); when it changed, it reads the versions of the
watched sessions in one statement per 500 and announces each (the hub reads again only
those newer than it knows: its own process's writes are published already).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Sequence
from pathlib import Path
from typing import NoReturn

import anyio

from maya.state.sql._sqlite import busy

__all__ = ["DEFAULT_POLL_S", "SqliteChangeFeed"]

_log = logging.getLogger("maya.state.sqlite_feed")

DEFAULT_POLL_S = 0.25
"""How often the feed asks whether another connection committed."""
_CHUNK = 500
"""Sessions per version query (SQLite allows 32,766 parameters; this keeps each short)."""


class SqliteChangeFeed:
    """Polls one SQLite file for commits of other connections; a ``ChangeFeed``."""

    def __init__(
        self,
        path: str,
        *,
        poll_s: float = DEFAULT_POLL_S,
        max_backoff_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        """Prepare a feed; nothing is opened until ``run``.

        Args:
            path: the database file (the store's).
            poll_s: seconds between two looks (> 0).
            max_backoff_s: the longest wait before opening the file again after a failure.
            sleep: how to wait (tests pass a fake clock's).

        Raises:
            ValueError: when ``poll_s`` is not positive.
        """
        if not poll_s > 0:
            raise ValueError(f"poll_s must be positive, not {poll_s}")
        self.path = path
        self.poll_s = poll_s
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        # Left by a cancelled run for the next one, with the data_version it last saw:
        # the next run compares with it, so a commit in between is still found.
        self._kept: tuple[sqlite3.Connection, int] | None = None

    def __repr__(self) -> str:
        return f"SqliteChangeFeed({self.path!r})"

    def _open(self) -> sqlite3.Connection:
        # Read-only and never waiting: a look that meets a lock is simply made again at
        # the next poll. Opened on the loop: opening a file takes no lock.
        uri = f"{Path(self.path).absolute().as_uri()}?mode=ro"
        return sqlite3.connect(
            uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
        )

    async def run(
        self,
        on_ready: Callable[[], Awaitable[None]],
        on_change: Callable[[str, int], Awaitable[None]],
        *,
        watched: Callable[[], Collection[str]] = tuple,
    ) -> None:
        """Look until cancelled; see ``maya.state.watch.ChangeFeed``.

        ``watched()`` names the sessions whose versions are read after a commit
        elsewhere. A run cancelled between two looks leaves its connection (and the
        last ``data_version`` seen) to the next run, which needs no ``on_ready``.
        """
        backoff = 0.1
        while True:
            kept, self._kept = self._kept, None
            if kept is not None:
                connection, seen = kept
            else:
                try:
                    connection = self._open()
                except sqlite3.Error as exc:
                    backoff = await self._failed(exc, backoff)
                    continue
                try:
                    seen = _data_version(connection)
                    await on_ready()
                except sqlite3.Error as exc:
                    connection.close()
                    backoff = await self._failed(exc, backoff)
                    continue
                except BaseException:
                    connection.close()
                    raise
            backoff = 0.1
            try:
                await self._look(connection, seen, on_change, watched)
            except sqlite3.Error as exc:
                connection.close()
                backoff = await self._failed(exc, backoff)
            except BaseException:
                if self._kept is None or self._kept[0] is not connection:
                    connection.close()
                raise

    async def _look(
        self,
        connection: sqlite3.Connection,
        seen: int,
        on_change: Callable[[str, int], Awaitable[None]],
        watched: Callable[[], Collection[str]],
    ) -> NoReturn:
        """Look every ``poll_s`` until cancelled (leaving the connection to the next run)
        or the file fails (``sqlite3.Error``, the connection to be closed)."""
        while True:
            try:
                await self._sleep(self.poll_s)
            except BaseException:
                self._kept = (connection, seen)  # cancelled between two looks: nothing lost
                raise
            now = _data_version(connection)
            if now == seen:
                continue
            try:
                versions = _versions(connection, tuple(watched()))
            except sqlite3.Error as exc:
                if not busy(exc):
                    raise
                continue  # a checkpoint or recovery under way: seen again at the next look
            # on_change never suspends: the versions read are all announced.
            for session_id, version in versions:
                await on_change(session_id, version)
            seen = now

    async def _failed(self, exc: sqlite3.Error, backoff: float) -> float:
        _log.warning("cannot look for tab changes in %r: %s", self, exc)
        await self._sleep(backoff)
        return min(backoff * 2, self._max_backoff_s)

    async def release(self) -> None:
        """Close the connection a cancelled run left (nobody watches now)."""
        kept, self._kept = self._kept, None
        if kept is not None:
            kept[0].close()


def _data_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA data_version").fetchone()
    return int(row[0])


def _versions(connection: sqlite3.Connection, sessions: Sequence[str]) -> list[tuple[str, int]]:
    """The stored version of each of ``sessions`` that has a tab, in one read."""
    found: list[tuple[str, int]] = []
    if not sessions:
        return found
    # One read transaction: every chunk sees the same commit.
    connection.execute("BEGIN")
    try:
        for start in range(0, len(sessions), _CHUNK):
            chunk = sessions[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = connection.execute(
                f"SELECT session_id, version FROM tabs WHERE session_id IN ({marks})", chunk
            )
            found.extend((str(session_id), int(version)) for session_id, version in rows)
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
    return found
