"""``PostgresTabStore``: tabs in PostgreSQL, shared by any number of processes.

Each write locks the session's row (``FOR UPDATE``), so writers of one session queue while
others proceed. psycopg (``maya-payments[postgres]``) is imported on first connect.
"""

from __future__ import annotations

import select
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from maya.codes import ErrorCode
from maya.redact import redact_conninfo
from maya.state.conversations import Conversation, ConversationBounds
from maya.state.errors import StoreError
from maya.state.models import TabState
from maya.state.sql import _conversations, _schema, _transact, notify
from maya.state.sql._conversations import Version
from maya.state.sql._rows import Params
from maya.state.sql._store import SqlStore
from maya.state.sql._transact import KnownStates, SqlConnection

if TYPE_CHECKING:
    from psycopg import AsyncConnection, AsyncPipeline
    from psycopg.rows import TupleRow
    from psycopg_pool import AsyncConnectionPool

__all__ = ["LOCK_TIMEOUT", "STATEMENT_TIMEOUT", "PostgresTabStore"]

LOCK_TIMEOUT = 5.0
"""Default seconds a statement waits for a row lock before ``StoreError`` (``STORE_BUSY``)."""
STATEMENT_TIMEOUT = 10.0
"""Default seconds any one statement may run."""

R = TypeVar("R")
T = TypeVar("T")

_SCHEMA_LOCK_KEY = 0x6D617961  # "maya": serialises schema creation across processes
_pg = _schema.for_postgres
# An event for a link and the recording of that link hold this lock (two-key form: its
# own key space), so an event kept as pending is never missed by the recording.
_LINK_LOCK = "SELECT pg_advisory_xact_lock(1835104353, hashtext(:key))"


class PostgresTabStore(SqlStore):
    """A ``TabStore`` in PostgreSQL, over a psycopg connection pool.

    Use it as ``async with PostgresTabStore(url) as store: ...`` or call ``aclose()``.
    The pool opens, and the schema is created (or migrated), on first use.
    """

    _key_lock = _LINK_LOCK

    def __init__(
        self,
        conninfo: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 10,
        pool_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        lock_timeout: float = LOCK_TIMEOUT,
        statement_timeout: float = STATEMENT_TIMEOUT,
        clock: Callable[[], float] = time.time,
        known_sessions: int = 1024,
        read_only: bool = False,
    ) -> None:
        """Prepare a store; nothing connects until the first call.

        Args:
            conninfo: a libpq URL or keyword string (``postgresql://user@host/db``).
            schema: a PostgreSQL schema to keep the tables in (created if missing);
                None uses the server's ``search_path`` (normally ``public``).
            min_size: connections the pool keeps open.
            max_size: most connections the pool opens; more callers wait.
            pool_timeout: seconds a caller waits for a free connection.
            connect_timeout: seconds to wait for the server on first use.
            lock_timeout: seconds a statement waits for a lock (another transaction
                holding the session's row) before failing with ``StoreError``
                (``STORE_BUSY``); 0 waits forever, as PostgreSQL does by default.
            statement_timeout: seconds any one statement may run, likewise.
            clock: Unix seconds, for the ``updated_at`` column.
            known_sessions: how many sessions' last state to keep in memory, so that a
                write (or load) reads only the tab row while nobody else wrote the
                session; 0 reads every item every time.
            read_only: only look: nothing is created or migrated (a schema or database
                without Maya's tables is a ``StoreError`` saying so, not made), and every
                write is refused with ``StoreError``.

        Raises:
            ValueError: for pool sizes that make no sense.
        """
        if min_size < 0 or max_size < max(min_size, 1):
            raise ValueError(
                f"pool sizes must satisfy 0 <= min <= max >= 1: {min_size}, {max_size}"
            )
        if not all(0 <= t <= 86_400 for t in (lock_timeout, statement_timeout)):
            raise ValueError(
                f"timeouts are 0 to 86400 seconds: lock {lock_timeout},"
                f" statement {statement_timeout}"
            )
        self._conninfo = conninfo
        self.schema = schema
        self.read_only = read_only
        self._min_size = min_size
        self._max_size = max_size
        self._pool_timeout = pool_timeout
        self._connect_timeout = connect_timeout
        # Milliseconds, as the server takes them; at least 1 so a tiny value never means 0.
        self._timeouts = {
            "lock_timeout": _ms(lock_timeout),
            "statement_timeout": _ms(statement_timeout),
        }
        self._clock = clock
        # How long a read may hold its connection once it has one (see `_reading`).
        self._read_bound_s = (statement_timeout or STATEMENT_TIMEOUT) + connect_timeout
        self._known = KnownStates(known_sessions)
        self._recent = _conversations.RecentConversations()
        self.channel = notify.channel_for(schema)
        """Where commits are announced (``LISTEN`` on it; see ``change_feed``)."""
        self._pool: AsyncConnectionPool[AsyncConnection[TupleRow]] | None = None
        self._opening = anyio.Lock()
        self._closed = False

    def __repr__(self) -> str:
        schema = "" if self.schema is None else f", schema={self.schema!r}"
        return f"PostgresTabStore({redact_conninfo(self._conninfo)!r}{schema})"

    async def _connections(self) -> AsyncConnectionPool[AsyncConnection[TupleRow]]:
        if self._pool is not None:
            return self._pool
        async with self._opening:
            if self._closed:
                raise StoreError(f"{self!r} is closed")
            if self._pool is None:
                self._pool = await self._open_pool()
        return self._pool

    async def _open_pool(self) -> AsyncConnectionPool[AsyncConnection[TupleRow]]:
        from psycopg import Error, sql
        from psycopg_pool import AsyncConnectionPool, PoolTimeout

        schema = self.schema
        timeouts = self._timeouts

        async def configure(connection: AsyncConnection[TupleRow]) -> None:
            # Session settings (the pool's connections are in autocommit): every wait on
            # a row lock, and every statement, is bounded.
            for name, ms in timeouts.items():
                await connection.execute(
                    sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(ms))
                )
            if schema is not None:
                await connection.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(schema))
                )

        pool: AsyncConnectionPool[AsyncConnection[TupleRow]] = AsyncConnectionPool(
            self._conninfo,
            # Autocommit: every transaction below is an explicit `conn.transaction()`.
            kwargs={"autocommit": True, "connect_timeout": max(1, round(self._connect_timeout))},
            min_size=self._min_size,
            max_size=self._max_size,
            open=False,
            configure=configure,
            # No `check=`: `_checkout` checks each connection it takes, out of reach of
            # the caller's cancellation.
            timeout=self._pool_timeout,
            name="maya-state",
        )
        try:
            await pool.open(wait=self._min_size > 0, timeout=self._connect_timeout)
            async with pool.connection(timeout=self._connect_timeout) as connection:
                if self.read_only:
                    await _check_tables(connection, schema, self._database())
                else:
                    await _migrate(connection, schema, self._database())
        except (PoolTimeout, Error) as exc:
            await pool.close()
            raise StoreError(f"cannot use {self._database()}: {exc}") from exc
        except BaseException:
            await pool.close()
            raise
        return pool

    async def load(self, session_id: str) -> TabState | None:
        """The stored state of ``session_id``, or None if it was never written.

        Raises:
            StoreError: when the store is closed, the server unreachable or the
                database too new.
        """
        async with (
            self._reading() as connection,
            # One snapshot for the three SELECTs, without blocking writers; the BEGIN
            # leaves with the first SELECT.
            _pipelined(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY") as read,
        ):
            return await _transact.read(read.driver, session_id, self._known)

    async def _read(self, work: Callable[[SqlConnection], Coroutine[Any, Any, T]], empty: T) -> T:
        """Run ``work`` on a pooled connection (``_reading``); the tables always exist."""
        async with self._reading() as connection:
            return await work(_Driver(connection))

    async def _write(
        self,
        work: Callable[[SqlConnection], Coroutine[Any, Any, T]],
        written: Callable[[T], tuple[bool, TabState | None]],
    ) -> T:
        """Run ``work`` in one transaction; commit (and announce) when ``written`` says so.

        ``written`` gives (commit?, the stored state): a transaction with nothing to
        commit is rolled back (undoing a row claimed for a new session).
        """
        self._refuse_if_read_only()
        pool = await self._connections()
        with self._unavailable_as_store_error():
            async with self._writing(pool) as connection, _pipelined(connection) as transaction:
                done = await work(transaction.driver)
                commit, stored = written(done)
                if not commit:
                    transaction.roll_back()
                elif stored is not None:
                    await self._announce(transaction.driver, stored)
        # Committed (or rolled back having written nothing).
        if stored is not None:
            self._known.keep(stored)
        return done

    async def _announce(self, driver: _Driver, state: TabState) -> None:
        """Tell every listener the tab reached ``state.version``: delivered by PostgreSQL
        at commit, and only if the commit happens (see ``notify``); sent with the commit."""
        payload = notify.notification_payload(state.session_id, state.version)
        await driver.send(
            "SELECT pg_notify(:channel, :payload)", {"channel": self.channel, "payload": payload}
        )

    def change_feed(self) -> notify.PostgresChangeFeed:
        """A feed of every commit to this store's tables, by any process (``LISTEN``)."""
        return notify.PostgresChangeFeed(
            self._conninfo, self.channel, connect_timeout=self._connect_timeout
        )

    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        """The session's conversation; empty when unknown or idle (``TabStore``).

        Raises:
            StoreError: when the store is closed or the server unreachable.
        """
        pool = await self._connections()

        async def load(known: Version | None) -> tuple[Conversation, Version | None]:
            with self._unavailable_as_store_error():
                async with pool.connection() as connection:
                    return await _conversations.load(
                        _Driver(connection), session_id, now=now, idle_s=idle_s, known=known
                    )

        return await self._recent.through(session_id, load)

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        """Keep ``turn`` within ``bounds`` in one transaction (``TabStore``).

        Raises:
            StoreError: when the store is closed or the server unreachable.
        """
        self._refuse_if_read_only()
        pool = await self._connections()

        async def append(known: Version | None) -> tuple[None, Version | None]:
            with self._unavailable_as_store_error():
                async with (
                    pool.connection() as connection,
                    _pipelined(connection) as transaction,
                ):
                    found = await _conversations.append_turn(
                        transaction.driver,
                        session_id,
                        turn,
                        now=now,
                        bounds=bounds,
                        # Idle rows another writer is deleting are left to it: no waiting.
                        skip_locked=" FOR UPDATE SKIP LOCKED",
                        known=known,
                    )
            return None, found  # settled once the transaction has committed

        await self._recent.through(session_id, append)

    async def session_ids(self) -> list[str]:
        """Every session this store holds, sorted (by code point, as Python sorts).

        Raises:
            StoreError: when the store is closed or the server unreachable.
        """
        async with self._reading() as connection:
            cursor = await connection.execute(_schema.SELECT_SESSION_IDS)
            return sorted(row[0] for row in await cursor.fetchall())

    async def _checkout(
        self, pool: AsyncConnectionPool[AsyncConnection[TupleRow]]
    ) -> AsyncConnection[TupleRow]:
        """A live connection from the pool: the wait for one is cancellable, the check of
        it is not (cancelling the pool's own check mid-query closes the connection).

        An idle connection with nothing to read is handed out as it is; only one the
        server wrote to while idle (a terminated backend's goodbye, a closed socket) costs
        a round trip (``check_connection``), which the pool's own ``check=`` spent on every
        checkout: one round trip in seven of an order.
        """
        from psycopg_pool import AsyncConnectionPool

        for _ in range(self._max_size + 1):
            connection = await pool.getconn()
            if _quiet(connection):
                return connection
            with anyio.CancelScope(shield=True):
                try:
                    # A connection the server dropped while idle is replaced, not used.
                    with anyio.fail_after(self._connect_timeout):
                        await AsyncConnectionPool.check_connection(connection)
                except Exception:
                    await pool.putconn(connection)  # dead: the pool discards it
                    continue
            return connection
        raise StoreError(f"{self._database()} failed: no live connection in the pool")

    @asynccontextmanager
    async def _writing(
        self, pool: AsyncConnectionPool[AsyncConnection[TupleRow]]
    ) -> AsyncIterator[AsyncConnection[TupleRow]]:
        """A pooled connection for one write (a cancelled write stops where it is)."""
        connection = await self._checkout(pool)
        try:
            yield connection
        finally:
            with anyio.CancelScope(shield=True):
                await pool.putconn(connection)

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection[TupleRow]]:
        """A pooled connection for one read, which the caller's cancellation cannot break.

        Waiting for a free connection is cancellable. Once the read has its connection, a
        cancellation (a page closing its tab stream mid-query) takes effect when the read
        is over and the connection is back in the pool: cancelling a query in flight makes
        psycopg close the connection, and the pool would open another one. The read is
        bounded by ``statement_timeout`` on the server and by ``_read_bound_s`` here.

        Raises:
            StoreError: when the store is closed, the server unreachable, or the read
                outlived its bound (``STORE_BUSY``).
        """
        pool = await self._connections()
        with self._unavailable_as_store_error():
            connection = await self._checkout(pool)
            with anyio.CancelScope(shield=True):
                try:
                    with anyio.fail_after(self._read_bound_s):
                        yield connection
                except TimeoutError as exc:
                    raise StoreError(
                        f"{self._database()} failed: a read took over {self._read_bound_s:g} s",
                        code=ErrorCode.STORE_BUSY,
                    ) from exc
                finally:
                    await pool.putconn(connection)

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise StoreError(f"{self!r} was opened read-only: nothing can be changed")

    def _database(self) -> str:
        schema = "" if self.schema is None else f" (schema {self.schema!r})"
        return f"PostgreSQL database {redact_conninfo(self._conninfo)}{schema}"

    @contextmanager
    def _unavailable_as_store_error(self) -> Iterator[None]:
        """Every driver error becomes ``StoreError``, naming the database (no password).

        A lock or statement timeout, or an exhausted pool, is ``STORE_BUSY``: asking
        again may work. Nothing is retried here: a connection lost during COMMIT leaves
        it unknown whether the order went through, and only the caller can decide.
        """
        from psycopg import Error
        from psycopg.errors import LockNotAvailable, QueryCanceled
        from psycopg_pool import PoolTimeout

        try:
            yield
        except (Error, PoolTimeout) as exc:
            busy = isinstance(exc, LockNotAvailable | QueryCanceled | PoolTimeout)
            raise StoreError(
                f"{self._database()} failed: {exc}",
                code=ErrorCode.STORE_BUSY if busy else ErrorCode.STORE_UNAVAILABLE,
            ) from exc

    async def aclose(self) -> None:
        """Close the pool. Idempotent; later calls raise ``StoreError``."""
        async with self._opening:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()


class _Pipelined:
    """One transaction in psycopg's pipeline mode (see ``_pipelined``)."""

    def __init__(self, driver: _Driver) -> None:
        self.driver = driver
        self.commit = True

    def roll_back(self) -> None:
        """End with ROLLBACK instead of COMMIT (nothing to write)."""
        self.commit = False


@asynccontextmanager
async def _pipelined(
    connection: AsyncConnection[TupleRow], begin: str = "BEGIN"
) -> AsyncIterator[_Pipelined]:
    """A transaction whose BEGIN leaves with its first statement and whose COMMIT leaves
    with the statements sent ahead (``_Driver.send``), in one round trip each.

    ``BEGIN`` and ``COMMIT`` are sent as statements: psycopg's ``transaction()`` waits
    for each of them, a round trip apiece. Any error (or a cancellation) rolls back:
    the pipeline's statements after a failed one were skipped by the server, and the
    transaction is ended before the connection goes back to the pool. The ROLLBACK is
    sent whatever the status says: a rule refusing a change leaves the pipeline with
    BEGIN sent but maybe not yet answered (ROLLBACK with no transaction only warns).
    They are never prepared: psycopg would prepare them as it does any statement run
    often, and after a rollback it deallocates what it prepared, with a DEALLOCATE sent
    at the next statement: inside the next transaction, before anything ``begin`` set.
    """
    try:
        async with connection.pipeline() as pipeline:
            await connection.execute(begin, prepare=False)
            transaction = _Pipelined(_Driver(connection, pipeline))
            yield transaction
            await connection.execute("COMMIT" if transaction.commit else "ROLLBACK", prepare=False)
    except BaseException:
        if not connection.closed and not connection.broken:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await connection.execute("ROLLBACK", prepare=False)
        raise


class _Driver:
    """``_transact.SqlConnection`` over a psycopg connection inside a transaction.

    In a pipeline (``connection.pipeline()``, entered before the transaction) the
    ``BEGIN`` leaves with the first statement, and what is ``send``-t leaves with the
    next one read or the ``COMMIT``: an order on a remembered tab is three round trips
    (four when the row must be read first), not six, and a
    remembered turn two, not five. ``execute`` and ``executemany`` still wait for their
    own result (a row count, a unique violation), as without one.
    """

    # The row itself is held: writers of other sessions proceed.
    lock_clause = " FOR UPDATE"

    def __init__(
        self,
        connection: AsyncConnection[TupleRow],
        pipeline: AsyncPipeline | None = None,
    ) -> None:
        self._connection = connection
        self._pipeline = pipeline

    async def fetchone(self, statement: str, params: Params) -> TupleRow | None:
        return await (await self._connection.execute(_pg(statement), params)).fetchone()

    async def fetchall(self, statement: str, params: Params) -> list[TupleRow]:
        return await (await self._connection.execute(_pg(statement), params)).fetchall()

    async def execute(self, statement: str, params: Params) -> int:
        from psycopg.errors import UniqueViolation

        try:
            cursor = await self._connection.execute(_pg(statement), params)
            if self._pipeline is not None:
                await self._pipeline.sync()  # its row count, and its error, now
            return cursor.rowcount
        except UniqueViolation as exc:
            raise _transact.UniqueViolation(exc.diag.constraint_name or "") from exc

    async def executemany(self, statement: str, rows: Sequence[Params]) -> None:
        from psycopg.errors import UniqueViolation

        try:
            async with self._connection.cursor() as cursor:
                await cursor.executemany(_pg(statement), rows)
            if self._pipeline is not None:
                await self._pipeline.sync()
        except UniqueViolation as exc:
            raise _transact.UniqueViolation(exc.diag.constraint_name or "") from exc

    async def send(self, statement: str, params: Params) -> None:
        # In a pipeline, execute queues the statement and returns without its result.
        await self._connection.execute(_pg(statement), params)


async def _migrate(
    connection: AsyncConnection[TupleRow], schema: str | None, database: str
) -> None:
    from psycopg import sql

    async with connection.transaction():
        # Transaction-scoped advisory lock: concurrent first starts create the tables
        # once instead of racing on the catalog.
        await connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        if schema is not None:
            await connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
        await connection.execute(_schema.SCHEMA_TABLE_DDL)
        row = await (await connection.execute(_schema.SELECT_SCHEMA_VERSION)).fetchone()
        found: int | None = None if row is None else int(row[0])
        for statement in _schema.upgrade_statements(found, database=database):
            await connection.execute(statement)
        if found != _schema.SCHEMA_VERSION:
            await connection.execute(
                _pg(_schema.SET_SCHEMA_VERSION), {"version": _schema.SCHEMA_VERSION}
            )


async def _check_tables(
    connection: AsyncConnection[TupleRow], schema: str | None, database: str
) -> None:
    """A read-only store's check in place of ``_migrate``: the schema and Maya's tables
    are there, at a version this Maya reads; nothing is created or locked.

    Raises:
        StoreError: the schema does not exist or holds no Maya tables (a mistyped
            schema is said, never made); ``upgrade_statements``' refusal of a newer one.
    """
    # The schema's name quoted by the server, as SET search_path took it.
    qualified = "'maya_schema'" if schema is None else "quote_ident(%s) || '.maya_schema'"
    params: tuple[str, ...] = () if schema is None else (schema,)
    found = await (
        await connection.execute(f"SELECT to_regclass({qualified}) IS NOT NULL", params)
    ).fetchone()
    if found is None or not found[0]:
        where = "" if schema is not None else " on its search_path"  # a schema is named
        raise StoreError(f"{database} holds no Maya tables{where}: nothing to read")
    row = await (await connection.execute(_schema.SELECT_SCHEMA_VERSION)).fetchone()
    # Refuses a newer schema; an older one is read as it is (as SQLite's read-only store).
    _schema.upgrade_statements(None if row is None else int(row[0]), database=database)


def _quiet(connection: AsyncConnection[TupleRow]) -> bool:
    """True when an idle pooled connection is open and the server has sent it nothing.

    Pooled connections never ``LISTEN``, and every reply was read before the connection
    went back: anything readable now is the server closing it (a terminated backend, a
    restart) or an error, so the full check is needed.
    """
    if connection.closed or connection.broken:
        return False
    try:
        readable, _, _ = select.select([connection.pgconn.socket], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _ms(seconds: float) -> int:
    return 0 if seconds == 0 else max(1, round(seconds * 1000))
