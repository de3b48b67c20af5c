"""``SqliteTabStore``: tabs in one SQLite file, safe for several processes at once.

One connection, one call at a time; ``BEGIN IMMEDIATE`` takes the write lock before the
state is read, and another process waits up to ``busy_timeout`` for it. Reads and commits
run on the event loop: the durable writes made before the loop's next turn share one
transaction, each in a savepoint, and one commit with its fsync (while the disk syncs
fast); a wait for a lock, or for a slow disk, runs in a thread. Commits of other
processes are found by polling the file (``sqlite_feed``).
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread

from maya.codes import ErrorCode
from maya.state.conversations import Conversation, ConversationBounds
from maya.state.errors import StoreError
from maya.state.models import TabState
from maya.state.sql import _conversations, _schema, _transact
from maya.state.sql._conversations import Version
from maya.state.sql._rows import Params
from maya.state.sql._sqlite import busy
from maya.state.sql._store import SqlStore
from maya.state.sql._transact import KnownStates, SqlConnection, run_to_completion
from maya.state.sql.sqlite_feed import DEFAULT_POLL_S, SqliteChangeFeed

__all__ = ["SqliteTabStore"]

R = TypeVar("R")
T = TypeVar("T")

MEMORY = ":memory:"
"""The path of a private, in-memory database (gone when the store closes)."""

DEFAULT_LOOP_SYNC_S = 0.001
"""How long, on average, a durable commit (its fsync) may hold the event loop for each
write it commits: about what handing a write to the worker thread costs in CPU under
load (see ``SqliteTabStore``)."""

SYNC_WEIGHT = 0.1
"""The weight of each durable commit on the loop in the running average of their times:
one slow sync (a checkpoint) moves it little, a disk that stays slow soon moves it."""

PROBE_EVERY = 32
"""While durable commits go to the thread, every this many of them is tried on the loop
again, and its time restarts the average: a disk that is fast again is noticed at once,
and a slow one holds the loop for one commit in this many."""


def _use_wal(connection: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode (it stays so), unless it already is.

    Converting needs the file to itself: while another connection uses it, SQLite
    refuses at once ("database is locked", or the old mode back), without a busy wait.
    Two connections converting a new file at once would spin on each other: each tries
    again after a short random pause, for up to ``timeout`` seconds while refused with an
    error, up to one second while given the old mode back (a file system without WAL
    keeps its journal, as before).
    """
    started = time.monotonic()
    while connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        waited = time.monotonic() - started
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if not busy(exc) or waited >= timeout:
                raise
        else:
            if mode == "wal" or waited >= min(timeout, 1.0):
                return
        time.sleep(random.uniform(0.001, 0.01))


class _Waited:
    """The answer of an attempt on the event loop that would have had to wait."""


class _SharedCommit:
    """The loop's open write transaction, on its FULL connection, shared by the writes
    made until the loop's next turn: one commit, and one fsync, for them all.

    SQLite makes a commit visible only once it is durable, so no write is seen before
    it is on disk, and none is answered before its commit ended.
    """

    __slots__ = ("connection", "ended", "error", "opener_waiting", "stored", "writes")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.stored: list[TabState] = []  # the kept writes' states, in order
        self.writes = 0  # the writes it answers, kept or not
        self.ended = anyio.Event()
        self.error: sqlite3.Error | None = None  # why it did not commit
        self.opener_waiting = True  # the first write has not yet let the loop run

    @classmethod
    def begin(cls, connection: sqlite3.Connection) -> _SharedCommit | None:
        """A shared commit holding the write lock; None while another connection holds
        it (the write then goes to the thread, which waits)."""
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if busy(exc):
                return None
            raise
        return cls(connection)


_WAITED = _Waited()


class SqliteTabStore(SqlStore):
    """A ``TabStore`` in a SQLite database file (or ``":memory:"``).

    Use it as ``async with SqliteTabStore(path) as store: ...`` or call ``aclose()``.
    The schema is created (or migrated) on first use.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 30.0,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        clock: Callable[[], float] = time.time,
        known_sessions: int = 1024,
        read_only: bool = False,
        change_poll_s: float = DEFAULT_POLL_S,
        loop_sync_s: float = DEFAULT_LOOP_SYNC_S,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Prepare a store; nothing is opened until the first call.

        Args:
            path: the database file (created if missing), or ``":memory:"``.
            busy_timeout: seconds to wait for another process's write to finish; then
                the call fails with ``StoreError`` (``STORE_BUSY``).
            synchronous: ``FULL`` (default) makes every commit survive a power cut;
                ``NORMAL`` survives a crash of the process only, for speed.
            clock: Unix seconds, for the ``updated_at`` column.
            known_sessions: how many sessions' last state to keep in memory, so that a
                write (or load) reads only the tab row while nobody else wrote the
                session; 0 reads every item every time.
            read_only: only look: the file is opened read-only, never created, locked
                for writing or migrated, so a read-only file or directory (or one another
                process is writing) can be inspected; ``transact`` raises ``StoreError``.
            change_poll_s: how often a watched store looks for commits of other
                processes (``change_feed``), in seconds (> 0).
            loop_sync_s: a ``FULL`` store commits a tab's change on the event loop (in
                a commit shared with the writes made with it), its fsync included,
                while such commits hold it at most this long (seconds) for each write
                they commit, on average; on a slower disk they commit in the worker
                thread. 0: always in the thread.
            timer: seconds, for timing those commits (tests pass a fake timer).

        Raises:
            ValueError: for a read-only in-memory database (it would always be empty), a
                ``change_poll_s`` that is not positive or a negative ``loop_sync_s``.
        """
        if read_only and os.fspath(path) == MEMORY:
            raise ValueError("a private in-memory database cannot be opened read-only")
        if not change_poll_s > 0:
            raise ValueError(f"change_poll_s must be positive, not {change_poll_s}")
        if not loop_sync_s >= 0:
            raise ValueError(f"loop_sync_s must be 0 or more, not {loop_sync_s}")
        self._loop_sync_s = loop_sync_s
        self._timer = timer
        self._sync_s: float | None = None  # durable commits' average time on the loop
        self._since_probe = 0
        self._change_poll_s = change_poll_s
        self.path = os.fspath(path)
        self._busy_timeout = busy_timeout
        self._synchronous = synchronous
        self._clock = clock
        self._known = KnownStates(known_sessions)
        self._recent = _conversations.RecentConversations()
        self._limiter = anyio.CapacityLimiter(1)
        self._thread_busy_ms = int(busy_timeout * 1000)  # the thread connection's, as set
        self._connection: sqlite3.Connection | None = None
        # Reads and commits on the event loop (a file's only: a second connection to
        # ":memory:" would be another database): NORMAL, and for a FULL store's tab
        # changes a FULL one, so no commit sets synchronous back and forth.
        self._loop_connection: sqlite3.Connection | None = None
        self._loop_synced: sqlite3.Connection | None = None
        self._shared: _SharedCommit | None = None  # open on the loop's FULL connection
        self._closed = False
        self.read_only = read_only
        self._no_tables = False  # read-only, and the file holds no Maya tables (yet)

    def __repr__(self) -> str:
        return f"SqliteTabStore({self.path!r})"

    async def _call(
        self,
        func: Callable[[sqlite3.Connection], T],
        *,
        on_loop: bool = False,
    ) -> T:
        """``func(connection)`` in the worker thread, one call at a time, errors as
        ``StoreError``.

        ``on_loop``: ``func`` never waits for a lock nor for the disk, so it runs at once
        on the event loop, on the loop's NORMAL connection, which has no busy timeout;
        should it meet a lock (a write of the thread's, or of another process), it kept
        nothing and goes to the thread, which waits. A thread hop costs more CPU than the
        statements themselves (see the design's module notes). (A durable write on the
        loop is a ``_SharedCommit``'s.)
        """
        if self._closed:
            raise StoreError(f"{self!r} is closed")  # not even after the queued calls
        if on_loop:
            done = self._on_loop(func)
            if not isinstance(done, _Waited):
                return done

        # The wait for the thread counts against busy_timeout: a call queued behind others
        # that each waited for a lock is answered within it too, not after all of theirs.
        deadline = time.monotonic() + self._busy_timeout

        def run() -> T:
            connection = self._connect()
            if connection is self._connection and not self.read_only:
                self._bound_lock_wait(connection, deadline - time.monotonic())
            return func(connection)

        # Not abandoned on cancellation: a transaction always finishes (commit or
        # rollback) before the connection is handed to the next caller.
        try:
            return await anyio.to_thread.run_sync(run, limiter=self._limiter)
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc

    def _bound_lock_wait(self, connection: sqlite3.Connection, remaining: float) -> None:
        """Let the thread's connection wait for a lock at most ``remaining`` seconds (what
        is left of the call's ``busy_timeout``); none left: the call fails as locked.

        Raises:
            StoreError: ``STORE_BUSY``, when nothing is left (the calls before it waited).
        """
        if remaining <= 0:
            raise StoreError(
                f"SQLite database {self.path!r} failed: still busy after"
                f" {self._busy_timeout:g} s (the calls before this one waited for a lock)",
                code=ErrorCode.STORE_BUSY,
            )
        wanted = int(remaining * 1000)  # at most busy_timeout: the deadline's own
        # Set again only when it moved noticeably: most calls find the thread free.
        if abs(wanted - self._thread_busy_ms) > 50:
            connection.execute(f"PRAGMA busy_timeout = {wanted}")
            self._thread_busy_ms = wanted

    def _on_loop(self, func: Callable[[sqlite3.Connection], T]) -> T | _Waited:
        connection = self._loop_connection
        if connection is None or self._closed:
            return _WAITED  # opened by the thread with the first one (opening may wait)
        try:
            return func(connection)
        except sqlite3.Error as exc:
            if busy(exc):
                return _WAITED  # func rolled back whatever it began (it always does)
            raise self._failed(exc) from exc

    def _failed(self, exc: sqlite3.Error) -> StoreError:
        # Locked past busy_timeout, unreadable, not a database, refused the data:
        # callers get one error type, naming the file. Only a lock is worth retrying.
        return StoreError(
            f"SQLite database {self.path!r} failed: {exc}{self._why_unopened(exc)}",
            code=ErrorCode.STORE_BUSY if busy(exc) else ErrorCode.STORE_UNAVAILABLE,
        )

    def _why_unopened(self, exc: sqlite3.Error) -> str:
        """What SQLite's "unable to open database file" means here, when the path says."""
        if "unable to open" not in str(exc) or self.path == MEMORY:
            return ""
        path = Path(self.path)
        if path.is_dir():
            return " (it is a folder: name a file in it)"
        if not path.parent.is_dir():
            return f" (its folder {str(path.parent)!r} does not exist)"
        return ""

    def _connect(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self!r} is closed")
        if self._connection is None and self.read_only:
            self._connection = self._open_read_only()
        if self._connection is None:
            # isolation_level=None: the driver never opens transactions behind our back;
            # every BEGIN/COMMIT below is explicit.
            connection = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
                if self.path != MEMORY:
                    _use_wal(connection, self._busy_timeout)
                connection.execute(f"PRAGMA synchronous = {self._synchronous}")
                connection.execute("PRAGMA foreign_keys = ON")
                _migrate(connection, f"SQLite database {self.path!r}")
                if self.path != MEMORY:
                    self._loop_connection = self._open_loop_connection("NORMAL")
                    if self._synchronous == "FULL":
                        self._loop_synced = self._open_loop_connection("FULL")
            except BaseException:
                connection.close()
                raise
            self._connection = connection
        return self._connection

    def _open_loop_connection(self, synchronous: str) -> sqlite3.Connection:
        # No busy timeout: a lock is never waited for on the loop. NORMAL for most of its
        # commits, which need no fsync (a power cut may lose them); FULL for a tab's.
        connection = sqlite3.connect(
            self.path, timeout=0, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute("PRAGMA busy_timeout = 0")
            connection.execute(f"PRAGMA synchronous = {synchronous}")
            connection.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            connection.close()
            raise
        return connection

    def _open_read_only(self) -> sqlite3.Connection:
        # mode=ro never creates the file nor takes the write lock. In a directory we may
        # not write, the WAL index (-shm) cannot be made: immutable=1 reads the file
        # without it (commits still only in a -wal file are then not seen).
        uri = Path(self.path).absolute().as_uri()
        for attempt, flags in enumerate(("mode=ro", "mode=ro&immutable=1")):
            connection = sqlite3.connect(
                f"{uri}?{flags}",
                uri=True,
                timeout=self._busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
                row = connection.execute(
                    "SELECT name FROM sqlite_master WHERE name = 'maya_schema'"
                ).fetchone()
                if row is None:
                    self._no_tables = True
                else:
                    found = connection.execute(_schema.SELECT_SCHEMA_VERSION).fetchone()
                    # Refuses a newer schema; an older one is read as it is.
                    _schema.upgrade_statements(
                        None if found is None else int(found[0]),
                        database=f"SQLite database {self.path!r}",
                    )
                return connection
            except sqlite3.OperationalError:
                connection.close()
                if attempt == 1:
                    raise
            except BaseException:
                connection.close()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def load(self, session_id: str) -> TabState | None:
        """The stored state of ``session_id``, or None if it was never written.

        Raises:
            StoreError: when the store is closed, the file unusable or too new.
        """

        def read(connection: sqlite3.Connection) -> TabState | None:
            if self._no_tables:
                return None
            # One read transaction, so the three SELECTs see the same commit.
            connection.execute("BEGIN")
            try:
                return run_to_completion(
                    _transact.read(_Driver(connection), session_id, self._known)
                )
            finally:
                connection.execute("COMMIT")

        return await self._call(read, on_loop=True)

    async def _read(self, work: Callable[[SqlConnection], Coroutine[Any, Any, T]], empty: T) -> T:
        """Run ``work`` on the connection; ``empty`` when the file holds no Maya tables yet."""

        def read(connection: sqlite3.Connection) -> T:
            if self._no_tables:
                return empty
            return run_to_completion(work(_Driver(connection)))

        return await self._call(read, on_loop=True)

    async def _write(
        self,
        work: Callable[[SqlConnection], Coroutine[Any, Any, T]],
        written: Callable[[T], tuple[bool, TabState | None]],
        *,
        durable: bool = True,
    ) -> T:
        """Run ``work`` in one write transaction; commit when ``written`` says so.

        ``BEGIN IMMEDIATE`` takes the database's write lock before anything is read, so
        no other writer (of any process) runs in between; it serialises every writer, so
        no row or key lock is needed. ``written`` gives (commit?, the stored state to keep).
        ``durable=False`` commits without waiting for the disk (``synchronous = NORMAL``:
        a power cut may lose it, never a tab's change).

        A durable write on the event loop opens a shared commit (``_SharedCommit``) on
        the loop's FULL connection, which the writes made before the loop's next turn
        join, each in a savepoint of its own, so one fsync serves them all; a write
        without one to join commits at once on the loop's NORMAL connection. Once the
        loop's shared commits have held it longer than ``loop_sync_s`` per write on
        average, a durable write commits in the thread instead, whose connection is set
        for the commit when it is not already what it needs.
        """
        synced = durable and self._synchronous == "FULL"
        if (
            self._shared is None
            and synced
            and self._loop_synced is not None
            and not self._closed
            and self._sync_on_loop()
        ):
            try:
                self._shared = _SharedCommit.begin(self._loop_synced)
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc
        if self._shared is not None:
            return await self._write_shared(self._shared, work, written)

        def run(connection: sqlite3.Connection) -> T:
            if self.read_only:
                raise StoreError(f"{self!r} was opened read-only: nothing can be changed")
            # The loop's connection commits without an fsync, as this write needs; the
            # thread's is as configured, and set for this commit only when it differs.
            usual = self._synchronous
            needed = "FULL" if synced else "NORMAL"
            toggled = connection is self._connection and needed != usual
            if toggled:
                connection.execute(f"PRAGMA synchronous = {needed}")
            try:
                # Refused (a lock, on the loop) or timed out (in the thread): the finally
                # still sets the connection back.
                connection.execute("BEGIN IMMEDIATE")
                done = run_to_completion(work(_Driver(connection)))
                commit, stored = written(done)
                if commit:
                    connection.execute("COMMIT")
            finally:
                # Nothing to write, or any error: nothing of this transaction may stay.
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if toggled:
                    connection.execute(f"PRAGMA synchronous = {usual}")
            if stored is not None:
                self._known.keep(stored)
            return done

        # A durable write here is in the thread: the loop's syncs are slow, its connections
        # not open yet, or another connection holds the lock.
        return await self._call(run, on_loop=not synced)

    async def _write_shared(
        self,
        shared: _SharedCommit,
        work: Callable[[SqlConnection], Coroutine[Any, Any, T]],
        written: Callable[[T], tuple[bool, TabState | None]],
    ) -> T:
        """Run ``work`` in a savepoint of ``shared``; its outcome once ``shared`` commits.

        A write ``written`` refuses, or whose ``work`` raises, rolls back to its savepoint
        and changes nothing. Every write, refused or not, is answered only once the
        shared commit has ended: whatever it read of the writes before it is then
        durable, or it fails with them (``StoreError``). A database error fails the
        whole shared commit (SQLite may have rolled the transaction back). The first
        write lets the loop run once for others to join, then commits for all.
        """
        connection = shared.connection
        refused: Exception | None = None
        shared.writes += 1
        try:
            connection.execute("SAVEPOINT write")
            try:
                done = run_to_completion(work(_Driver(connection)))
                keep, stored = written(done)
            except sqlite3.Error:
                raise
            except Exception as exc:
                refused, keep, stored = exc, False, None
            except BaseException:
                connection.execute("ROLLBACK TO write")
                connection.execute("RELEASE write")
                if shared.opener_waiting:  # nobody joined yet: nothing to keep it open for
                    self._end_shared(shared)
                raise
            if keep:
                connection.execute("RELEASE write")
                if stored is not None:
                    shared.stored.append(stored)
            else:
                connection.execute("ROLLBACK TO write")
                connection.execute("RELEASE write")
        except sqlite3.Error as exc:
            self._end_shared(shared, error=exc)
            raise self._failed(exc) from exc
        if shared.opener_waiting:
            shared.opener_waiting = False
            # Others ready on the loop now join before the commit (not cancellable: the
            # writes that joined wait for it).
            await anyio.lowlevel.cancel_shielded_checkpoint()
            self._end_shared(shared)
        else:
            with anyio.CancelScope(shield=True):
                await shared.ended.wait()
        if shared.error is not None:
            raise self._failed(shared.error) from shared.error
        if refused is not None:
            raise refused
        return done

    def _end_shared(self, shared: _SharedCommit, *, error: sqlite3.Error | None = None) -> None:
        """Commit ``shared`` (or, after ``error``, roll it back) and wake its writes; once."""
        if shared.ended.is_set():
            return
        if self._shared is shared:
            self._shared = None
        connection = shared.connection
        if error is None:
            started = self._timer()
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                error = exc
            else:
                self._synced((self._timer() - started) / shared.writes)
                for stored in shared.stored:
                    self._known.keep(stored)
        if error is not None:
            shared.error = error
            with contextlib.suppress(sqlite3.Error):
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
        shared.ended.set()

    def _sync_on_loop(self) -> bool:
        """Whether this durable commit runs on the loop: while their average time there
        is within ``loop_sync_s`` (or none was timed yet); otherwise one in
        ``PROBE_EVERY``, to find out whether the disk is fast again."""
        if self._loop_sync_s <= 0:
            return False
        if self._sync_s is None or self._sync_s <= self._loop_sync_s:
            return True
        self._since_probe += 1
        if self._since_probe < PROBE_EVERY:
            return False
        self._since_probe = 0
        return True

    def _synced(self, seconds: float) -> None:
        """Count a shared commit on the loop that held it ``seconds`` for each of its
        writes: the first, or a probe (the average was over the bound), sets the
        average; the others move it.

        Per write, because what the loop's wait is weighed against is the CPU each write
        would spend handed to the thread: a commit shared by four writes may take four
        times as long for the same trade (one alone, as long as the bound).
        """
        average = self._sync_s
        if average is None or average > self._loop_sync_s:
            self._sync_s = seconds
        else:
            self._sync_s = average + SYNC_WEIGHT * (seconds - average)

    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        """The session's conversation; empty when unknown or idle (``TabStore``).

        Raises:
            StoreError: when the store is closed, the file unusable or too new.
        """
        nothing: tuple[Conversation, Version | None] = (Conversation(), None)
        return await self._recent.through(
            session_id,
            lambda known: self._read(
                lambda driver: _conversations.load(
                    driver, session_id, now=now, idle_s=idle_s, known=known
                ),
                nothing,
            ),
        )

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        """Keep ``turn`` within ``bounds`` in one write transaction (``TabStore``).

        Raises:
            StoreError: when the store is closed, read-only, the file unusable or too new.
        """

        # A remembered turn is no money: its commit does not wait for the disk.
        async def append(known: Version | None) -> tuple[None, Version | None]:
            found = await self._write(
                lambda driver: _conversations.append_turn(
                    driver, session_id, turn, now=now, bounds=bounds, skip_locked="", known=known
                ),
                lambda _: (True, None),
                durable=False,
            )
            return None, found

        await self._recent.through(session_id, append)

    def change_feed(self) -> SqliteChangeFeed | None:
        """A feed of other connections' commits to the file (polled, every
        ``change_poll_s``); None for ``":memory:"`` (nobody else can write it)."""
        if self.path == MEMORY:
            return None
        return SqliteChangeFeed(self.path, poll_s=self._change_poll_s)

    async def session_ids(self) -> list[str]:
        """Every session this store holds, sorted.

        Raises:
            StoreError: when the store is closed, the file unusable or too new.
        """

        def read(connection: sqlite3.Connection) -> list[str]:
            if self._no_tables:
                return []
            return sorted(row[0] for row in connection.execute(_schema.SELECT_SESSION_IDS))

        return await self._call(read, on_loop=True)

    async def aclose(self) -> None:
        """Close the connections. Idempotent; later calls raise ``StoreError``."""
        # The loop's connection is closed on the loop: no call runs on it meanwhile (they
        # never wait), and none starts once the store is marked closed.
        self._closed = True
        if self._shared is not None:
            self._end_shared(self._shared)  # the writes that joined it keep their answer
        on_loop = (self._loop_connection, self._loop_synced)
        self._loop_connection = self._loop_synced = None
        for connection in on_loop:
            if connection is not None:
                connection.close()

        def close() -> None:
            # After any call queued before this one (one opening the file may have made
            # the loop's connections since).
            for connection in (self._loop_connection, self._loop_synced, self._connection):
                if connection is not None:
                    connection.close()
            self._connection = self._loop_connection = self._loop_synced = None

        await anyio.to_thread.run_sync(close, limiter=self._limiter)


class _Driver:
    """``_transact.SqlConnection`` over the stdlib driver: every call is synchronous."""

    # BEGIN IMMEDIATE already holds the database's write lock.
    lock_clause = ""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    async def fetchone(self, statement: str, params: Params) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self._connection.execute(statement, params).fetchone()
        return row

    async def fetchall(self, statement: str, params: Params) -> list[Sequence[Any]]:
        return self._connection.execute(statement, params).fetchall()

    async def execute(self, statement: str, params: Params) -> int:
        try:
            return self._connection.execute(statement, params).rowcount
        except sqlite3.IntegrityError as exc:
            _raise_unique_violation(exc)
            raise

    async def executemany(self, statement: str, rows: Sequence[Params]) -> None:
        try:
            self._connection.executemany(statement, rows)
        except sqlite3.IntegrityError as exc:
            _raise_unique_violation(exc)
            raise

    async def send(self, statement: str, params: Params) -> None:
        self._connection.execute(statement, params)  # no round trip to save


def _raise_unique_violation(exc: sqlite3.IntegrityError) -> None:
    # SQLite names the columns, not the index: "UNIQUE constraint failed: payments.payment_id".
    if "UNIQUE constraint failed: payments.payment_id" in str(exc):
        raise _transact.UniqueViolation(_schema.PAYMENT_ID_INDEX) from exc


def _migrate(connection: sqlite3.Connection, database: str) -> None:
    # The write lock first, so two processes opening a fresh file create it once.
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_schema.SCHEMA_TABLE_DDL)
        row = connection.execute(_schema.SELECT_SCHEMA_VERSION).fetchone()
        found: int | None = None if row is None else int(row[0])
        for statement in _schema.upgrade_statements(found, database=database):
            connection.execute(statement)
        if found != _schema.SCHEMA_VERSION:
            connection.execute(_schema.SET_SCHEMA_VERSION, {"version": _schema.SCHEMA_VERSION})
        connection.execute("COMMIT")
    finally:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
