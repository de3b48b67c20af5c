"""The one transaction algorithm both SQL stores run; they supply only the driver.

``transact`` (claim, transition, version-guarded write) and ``read`` are written once over
``SqlConnection``; SQLite's synchronous driver runs them with ``run_to_completion``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from maya.codes import ErrorCode
from maya.state.errors import StateError, StoreError
from maya.state.models import OrderedItem, PaymentRecord, TabState
from maya.state.sql import _rows, _schema
from maya.state.sql._rows import Params
from maya.state.store import Change, Transition, check_step, new_state_of

__all__ = [
    "KnownStates",
    "Outcome",
    "SqlConnection",
    "UniqueViolation",
    "read",
    "run_to_completion",
    "transact",
]

R = TypeVar("R")
T = TypeVar("T")
Row = Sequence[Any]


class UniqueViolation(Exception):
    """A driver's unique-constraint error, named by the index it hit.

    Attributes:
        index: the index (``_schema.PAYMENT_ID_INDEX``...) or primary key that refused.
    """

    def __init__(self, index: str) -> None:
        super().__init__(index)
        self.index = index


class SqlConnection(Protocol):
    """One open transaction, as the algorithm needs it.

    Statements are written in ``:name`` style (``_schema``); a driver converts them.
    ``execute`` and ``executemany`` raise ``UniqueViolation`` for a unique-constraint
    error.
    """

    lock_clause: str
    """Appended to the tab's SELECT to hold its row (``" FOR UPDATE"``; empty when the
    transaction already holds the database's write lock)."""

    async def fetchone(self, statement: str, params: Params) -> Row | None:
        """The first row of ``statement``, or None."""
        ...

    async def fetchall(self, statement: str, params: Params) -> Sequence[Row]:
        """Every row of ``statement``."""
        ...

    async def execute(self, statement: str, params: Params) -> int:
        """Run ``statement``; the number of rows it changed."""
        ...

    async def executemany(self, statement: str, rows: Sequence[Params]) -> None:
        """Run ``statement`` once per parameter set (nothing when ``rows`` is empty)."""
        ...

    async def send(self, statement: str, params: Params) -> None:
        """Run ``statement``, whose result nobody reads: a driver may send it with what
        follows, in one round trip (PostgreSQL's pipeline). Its error then surfaces at
        a later statement or at the commit, as the driver's own (never as
        ``UniqueViolation``), and the transaction does not commit."""
        ...


@dataclass(frozen=True, slots=True)
class Outcome(Generic[R]):
    """What ``transact`` did inside the transaction.

    Attributes:
        state: the state after the transition.
        result: the transition's result.
        wrote: True when something was written: the caller commits; otherwise it rolls
            back (which also undoes a row claimed for a new session).
        stored: the session's stored state once the caller has committed (or rolled
            back an unwritten transaction), for ``KnownStates``; None for a new session
            that stays unwritten.
    """

    state: TabState
    result: R
    wrote: bool
    stored: TabState | None


def run_to_completion(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine whose awaits never suspend (a synchronous driver's), to its end.

    Raises:
        RuntimeError: if it suspended after all (a bug: an async driver in a thread).
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("a synchronous SQL driver suspended")


class KnownStates:
    """The last state a store committed or read, per session, so it need not read it again.

    A kept state is used only when the session's row, read in the same transaction (under
    the lock, for a write), still holds its version and its totals. Every write raises
    the version (``check_step``), so an equal version means no writer came in between, in
    this process or another; a stale entry costs one full read, never a wrong answer.
    """

    def __init__(self, size: int) -> None:
        """Keep at most ``size`` sessions (the least recently used go first; 0: none)."""
        self._size = size
        self._states: OrderedDict[str, TabState] = OrderedDict()
        # SQLite reads on the event loop while its thread commits: one change at a time.
        self._lock = threading.Lock()

    def matching(self, session_id: str, tab: Row) -> TabState | None:
        """The kept state of ``session_id`` if ``tab`` (its row, as read) is still it."""
        with self._lock:
            state = self._states.get(session_id)
            if state is None or _rows.head_of(state) != _rows.decode_head(tab):
                return None
            self._states.move_to_end(session_id)
            return state

    def get(self, session_id: str) -> TabState | None:
        """The kept state of ``session_id``, unchecked: a guess a write must verify."""
        with self._lock:
            return self._states.get(session_id)

    def keep(self, state: TabState) -> None:
        """Remember ``state`` as its session's stored state (unless a newer one is kept)."""
        if self._size <= 0:
            return
        with self._lock:
            kept = self._states.get(state.session_id)
            if kept is not None and kept.version > state.version:
                return
            self._states[state.session_id] = state
            self._states.move_to_end(state.session_id)
            while len(self._states) > self._size:
                self._states.popitem(last=False)


async def read(connection: SqlConnection, session_id: str, known: KnownStates) -> TabState | None:
    """The session's stored state (inside the caller's read transaction), or None."""
    tab = await connection.fetchone(_schema.SELECT_TAB, {"session_id": session_id})
    if tab is None:
        return None
    return await _complete(connection, session_id, tab, known)


async def _complete(
    connection: SqlConnection, session_id: str, tab: Row, known: KnownStates
) -> TabState:
    """The whole state whose tab row is ``tab``: the kept one, else its items and payments."""
    state = known.matching(session_id, tab)
    if state is not None:
        return state
    key = {"session_id": session_id}
    items = await connection.fetchall(_schema.SELECT_ITEMS, key)
    payments = await connection.fetchall(_schema.SELECT_PAYMENTS, key)
    state = _rows.decode_state(session_id, tab, items, payments)
    known.keep(state)
    return state


async def _lock(
    connection: SqlConnection,
    session_id: str,
    initial: Callable[[], TabState],
    updated_at: float,
    known: KnownStates,
) -> tuple[TabState, bool]:
    """The session's state with its row held, claiming the row of a new session.

    Returns the state and True when the row was claimed just now (it then holds no
    items or payments yet).
    """
    key = {"session_id": session_id}
    select = _schema.SELECT_TAB + connection.lock_clause
    tab = await connection.fetchone(select, key)
    if tab is None:
        state = initial()
        # INSERT ... ON CONFLICT DO NOTHING: of two first writes one inserts, the other
        # waits for it to commit and inserts nothing; it then reads the row under lock.
        if await connection.execute(
            _schema.INSERT_TAB, _rows.tab_params(state, updated_at=updated_at)
        ):
            return state, True
        tab = await connection.fetchone(select, key)
        if tab is None:
            raise StoreError(f"session {session_id!r} vanished while it was being created")
    return await _complete(connection, session_id, tab, known), False


async def transact(
    connection: SqlConnection,
    session_id: str,
    initial: Callable[[], TabState],
    transition: Transition[R],
    *,
    clock: Callable[[], float],
    known: KnownStates,
) -> Outcome[R]:
    """Apply ``transition`` to the session inside the caller's write transaction.

    When ``known`` holds the session, the transition runs on that state first and the
    row is written only if it still holds exactly that state (``UPDATE_KNOWN_TAB``: its
    version and every value of the row), which is what reading it under lock would have
    checked: no read at all. Anything else (nothing kept, a row another writer changed,
    a transition that refuses or changes nothing, which is only believed once the state
    is read) reads the session's row under lock, and its items and payments only when
    ``known`` holds that very version, and runs the transition on what it read. Writes
    the row (guarded by the version) and what changed: exactly a ``Change``'s
    description when the transition gave one for the state it was handed, else the
    difference found by comparing the two states. The caller commits when
    ``Outcome.wrote`` and rolls back otherwise or on any error; it keeps
    ``Outcome.stored`` in ``known`` once committed.

    Raises:
        StateError: whatever the transition raised; ``PAYMENT_SUPERSEDED`` when a
            payment id already belongs to another session; ``CONCURRENT_UPDATE`` if the
            row changed under the lock (a bug).
        ValueError: when the transition changed the session id or not the version.
        StoreError: when the session's row vanished while being created.
    """
    guess = known.get(session_id)
    if guess is not None:
        done = await _transact_known(connection, guess, transition, clock=clock)
        if done is not None:
            return done
    current, claimed = await _lock(connection, session_id, initial, clock(), known)
    step, result = transition(current)
    new_state = new_state_of(step)
    if new_state is current:
        return Outcome(current, result, wrote=False, stored=None if claimed else current)
    check_step(current, new_state)
    updated = await connection.execute(
        _schema.UPDATE_TAB,
        _rows.tab_params(new_state, updated_at=clock(), old_version=current.version),
    )
    if updated != 1:
        raise StateError(
            ErrorCode.CONCURRENT_UPDATE,
            "the tab changed while it was locked for this update",
            session_id=session_id,
        )
    return await _write_rest(connection, current, claimed, step, new_state, result)


async def _transact_known(
    connection: SqlConnection,
    guess: TabState,
    transition: Transition[R],
    *,
    clock: Callable[[], float],
) -> Outcome[R] | None:
    """``transition`` on the remembered state, written if the row still holds it; None
    when that is not known without reading the row (the caller reads it then)."""
    try:
        step, result = transition(guess)
        new_state = new_state_of(step)
        if new_state is guess:
            return None  # nothing to write: whether that is so needs the row read
        check_step(guess, new_state)
    except Exception:
        return None  # a refusal of a state that may be stale: told once the row is read
    params = _rows.tab_params(new_state, updated_at=clock())
    params.update(_rows.known_params(guess))
    if await connection.execute(_schema.UPDATE_KNOWN_TAB, params) != 1:
        return None  # another writer came in between (or no row): read it
    return await _write_rest(connection, guess, False, step, new_state, result)


async def _write_rest(
    connection: SqlConnection,
    current: TabState,
    claimed: bool,
    step: TabState | Change,
    new_state: TabState,
    result: R,
) -> Outcome[R]:
    """Write the items and payments ``step`` changed, the tab's row being written."""
    session_id = current.session_id
    if isinstance(step, Change) and step.before is current and not claimed:
        plan = _rows.plan_change(session_id, step)
    else:
        # A row claimed just now holds no items or payments yet: write all of the new
        # state's. Otherwise compare (cheap where the rule kept the old objects).
        old_items: Sequence[OrderedItem] = () if claimed else current.items
        old_payments: Sequence[PaymentRecord] = () if claimed else current.payments
        plan = _rows.plan_writes(session_id, old_items, old_payments, new_state)
    try:
        for statement, rows in plan.statements():
            await connection.executemany(statement, rows)
    except UniqueViolation as exc:
        if exc.index == _schema.PAYMENT_ID_INDEX:
            raise StateError(
                ErrorCode.PAYMENT_SUPERSEDED,
                "that payment link already belongs to another session",
                session_id=session_id,
            ) from exc
        # Any other index refusing is a driver error like the rest: re-raised as the
        # driver raised it, for the store to report as StoreError naming its database.
        if exc.__cause__ is None:
            raise
        raise exc.__cause__ from None
    return Outcome(new_state, result, wrote=True, stored=new_state)
