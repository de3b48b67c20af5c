"""Conversation memory in the SQL stores, written once over ``_transact.SqlConnection``.

An append claims the session's row (serialising appends), inserts the turn, drops the
oldest beyond the bounds, and now and then deletes a bounded batch of idle conversations.

A store remembers the conversations it last read or wrote (``RecentConversations``), each
with its row's version: ``(turns_total, last_at)``, which every append changes (the count
goes up by one, or starts over at 1) and nothing else does. A read sends the version it
holds, and the turns' bodies come back only when the row has another: a conversation of 40
turns is then one short row to read, not 40 bodies to fetch and decode on every turn. An
append that finds the version it holds one turn behind its own derives the new
conversation (the turn added, the oldest dropped as ``TRIM`` drops them): it sends no
trim when it keeps every turn, and deletes a range of the key (``DROP_BEFORE``) when it
drops some; anything else (another process's append in between) trims in the database
(``TRIM``, which sums the session's bytes) and forgets the conversation, and the next
read fetches the bodies.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from maya.state.conversations import (
    PRUNE_BATCH,
    PRUNE_EVERY,
    Conversation,
    ConversationBounds,
    kept_from,
)
from maya.state.sql._transact import SqlConnection

__all__ = [
    "RECENT_BYTES",
    "RECENT_SESSIONS",
    "RecentConversations",
    "Version",
    "append_turn",
    "load",
]

T = TypeVar("T")

RECENT_SESSIONS = 1024
"""Conversations a store remembers at most (least recently used out)."""
RECENT_BYTES = 16_000_000
"""Their turns' bytes (UTF-8) together, at most."""


@dataclass(frozen=True, slots=True)
class Version:
    """A conversation as its row stood at one version: the turns without a database read.

    Attributes:
        count: the row's ``turns_total`` (the newest kept turn's number).
        last_at: the row's ``last_at`` (the newest turn's time).
        turns: the kept turns, oldest first (numbered ``count - len(turns) + 1`` on).
        sizes: their bytes (UTF-8), as the ``bytes`` column holds them.
    """

    count: int
    last_at: float
    turns: tuple[str, ...]
    sizes: tuple[int, ...]
    size: int = field(init=False)
    """All their bytes."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "size", sum(self.sizes))

    def appended(self, turn: str, count: int, now: float, bounds: ConversationBounds) -> Version:
        """This conversation with ``turn`` kept as number ``count`` at ``now``, the oldest
        dropped beyond ``bounds`` (as ``TRIM`` drops them)."""
        turns, sizes = (*self.turns, turn), (*self.sizes, len(turn.encode()))
        if len(turns) > bounds.max_turns or self.size + sizes[-1] > bounds.max_bytes:
            first = count - len(turns) + 1
            newest_first = [(first + index, size) for index, size in enumerate(sizes)][::-1]
            drop = kept_from(newest_first, bounds)
            keep = 0 if drop is None else drop - first + 1
            turns, sizes = turns[keep:], sizes[keep:]
        return Version(count, now, turns, sizes)


_NOTHING = Version(0, 0.0, (), ())


class RecentConversations:
    """The ``Version`` of each conversation a store last read or wrote, least recently
    used out past ``sessions`` conversations or ``max_bytes`` of turns. Only the event
    loop's code changes it, between database calls."""

    def __init__(self, *, sessions: int = RECENT_SESSIONS, max_bytes: int = RECENT_BYTES) -> None:
        """Remember at most ``sessions`` conversations and ``max_bytes`` of their turns."""
        self._sessions = sessions
        self._max_bytes = max_bytes
        self._bytes = 0
        self._by_session: OrderedDict[str, Version] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_session)

    def get(self, session_id: str) -> Version | None:
        """The version remembered for ``session_id``, if any."""
        return self._by_session.get(session_id)

    async def through(
        self,
        session_id: str,
        call: Callable[[Version | None], Awaitable[tuple[T, Version | None]]],
    ) -> T:
        """``call(known)`` with the version remembered for ``session_id``; what it found
        is settled afterwards (``settle``), and a call that fails forgets the session:
        whether its write reached the database is unknown."""
        known = self.get(session_id)
        try:
            done, found = await call(known)
        except BaseException:
            self.settle(session_id, None, known=known)
            raise
        self.settle(session_id, found, known=known)
        return done

    def settle(self, session_id: str, found: Version | None, *, known: Version | None) -> None:
        """Remember ``found`` (None: forget the session), unless what is remembered is no
        longer ``known``, the version the read or write that found it began from: then
        another call of this process settled it meanwhile, and it is forgotten."""
        current = self._by_session.pop(session_id, None)
        if current is not None:
            self._bytes -= current.size
        if current is not known or found is None or found.size > self._max_bytes:
            return
        self._by_session[session_id] = found
        self._bytes += found.size
        while len(self._by_session) > self._sessions or self._bytes > self._max_bytes:
            _, oldest = self._by_session.popitem(last=False)
            self._bytes -= oldest.size


# The bodies come back only when the row's version is not the one the reader holds
# (:known_count -1 when it holds none); a row always comes back, with its version.
SELECT_CONVERSATION = (
    "SELECT c.turns_total, c.last_at, t.body, t.bytes FROM conversations c"
    " LEFT JOIN conversation_turns t ON t.session_id = c.session_id"
    " AND NOT (c.turns_total = :known_count AND c.last_at = :known_at)"
    " WHERE c.session_id = :session_id ORDER BY t.seq"
)
# `skip` is " FOR UPDATE SKIP LOCKED" on PostgreSQL; SQLite holds the database's write lock.
PRUNE_IDLE = (
    "DELETE FROM conversations WHERE session_id IN (SELECT session_id FROM conversations"
    " WHERE last_at < :cutoff ORDER BY last_at LIMIT :batch{skip})"
)
# A conversation idle since :cutoff starts over at turn 1 (its old turns are then cleared).
BUMP_CONVERSATION = (
    "INSERT INTO conversations (session_id, turns_total, last_at) VALUES (:session_id, 1, :now)"
    " ON CONFLICT (session_id) DO UPDATE SET turns_total = CASE"
    " WHEN conversations.last_at < :cutoff THEN 1 ELSE conversations.turns_total + 1 END,"
    " last_at = excluded.last_at RETURNING turns_total"
)
CLEAR_TURNS = "DELETE FROM conversation_turns WHERE session_id = :session_id"
INSERT_TURN = (
    "INSERT INTO conversation_turns (session_id, seq, body, bytes)"
    " VALUES (:session_id, :seq, :body, :bytes)"
)
# The newest turn beyond the bounds (``conversations.kept_from`` in SQL) and all older go.
# A session's turns are numbered without gaps (one conversation row numbers them, and a
# conversation begun again clears them), so while their bytes fit, the turn bound is a
# range of the key; the bytes are summed over the session's rows first, and only when
# they do not fit are the turns walked newest first.
TRIM = (
    "DELETE FROM conversation_turns WHERE session_id = :session_id AND seq <= CASE"
    " WHEN (SELECT SUM(bytes) FROM conversation_turns WHERE session_id = :session_id)"
    " > :max_bytes THEN ("
    "SELECT COALESCE(MAX(seq), 0) FROM (SELECT seq,"
    " ROW_NUMBER() OVER (ORDER BY seq DESC) AS n,"
    " SUM(bytes) OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS total"
    " FROM conversation_turns WHERE session_id = :session_id) AS newest"
    " WHERE n > :max_turns OR total > :max_bytes)"
    " ELSE :seq - :max_turns END"
)
# What a known conversation drops: its turns before the first it keeps (a range of the key).
DROP_BEFORE = "DELETE FROM conversation_turns WHERE session_id = :session_id AND seq < :first"


async def load(
    connection: SqlConnection,
    session_id: str,
    *,
    now: float,
    idle_s: float,
    known: Version | None = None,
) -> tuple[Conversation, Version | None]:
    """The session's conversation in one statement (empty when unknown or idle), and its
    row's version (None: no row). ``known``: the version the caller holds; when the row
    still has it, no body is read and ``known`` is returned as it is."""
    rows = await connection.fetchall(
        SELECT_CONVERSATION,
        {
            "session_id": session_id,
            "known_count": -1 if known is None else known.count,
            "known_at": 0.0 if known is None else known.last_at,
        },
    )
    if not rows:
        return Conversation(), None
    count, last_at = int(rows[0][0]), float(rows[0][1])
    if known is not None and count == known.count and last_at == known.last_at:
        found = known
    else:
        kept = [(str(body), int(size)) for _, _, body, size in rows if body is not None]
        found = Version(
            count, last_at, tuple(body for body, _ in kept), tuple(size for _, size in kept)
        )
    if last_at < now - idle_s:
        return Conversation(), found
    return Conversation(found.turns, count), found


async def append_turn(
    connection: SqlConnection,
    session_id: str,
    turn: str,
    *,
    now: float,
    bounds: ConversationBounds,
    skip_locked: str,
    known: Version | None = None,
) -> Version | None:
    """Keep ``turn`` within ``bounds`` inside the caller's write transaction.

    Four statements for a turn (five with the idle prune, which runs when a conversation
    begins and every ``PRUNE_EVERY`` turns of one). When the conversation is known, the
    database is not asked what to drop: a turn that keeps every turn sends no trim, and
    one past a bound deletes the turns before the first kept, a range of the key, not
    the ``TRIM`` that sums the session's bytes. Returns the
    conversation as this transaction leaves it, when that is known without a read: it
    began with this turn, or ``known`` (the version the caller holds) was the row's last
    (None otherwise).
    """
    key = {"session_id": session_id}
    cutoff = now - bounds.idle_s
    row = await connection.fetchone(BUMP_CONVERSATION, {**key, "now": now, "cutoff": cutoff})
    if row is None:  # pragma: no cover - RETURNING always yields the row
        raise RuntimeError("the conversation row was not returned")
    seq = int(row[0])
    # The count goes up by one per append and starts over at 1 only once the row is
    # idle: one behind ours, on a row not idle when we knew it, means no other append
    # came in between, so the rows are the turns ``base`` holds (a conversation begun
    # again holds none: its turns are cleared below).
    base = _NOTHING if seq == 1 else known
    if base is None or seq != base.count + 1 or (seq > 1 and base.last_at < cutoff):
        derived = None
    else:
        derived = base.appended(turn, seq, now, bounds)
    # Nothing below is read back: on PostgreSQL it goes with the commit, in one trip.
    if seq == 1:
        await connection.send(CLEAR_TURNS, key)
    if seq == 1 or seq % PRUNE_EVERY == 0:
        await connection.send(
            PRUNE_IDLE.format(skip=skip_locked), {"cutoff": cutoff, "batch": PRUNE_BATCH}
        )
    size = len(turn.encode())
    await connection.send(INSERT_TURN, {**key, "seq": seq, "body": turn, "bytes": size})
    if derived is None or base is None:
        # Unknown rows: the database finds what goes.
        await connection.send(
            TRIM,
            {**key, "seq": seq, "max_turns": bounds.max_turns, "max_bytes": bounds.max_bytes},
        )
    elif len(derived.turns) <= len(base.turns):  # some dropped: those before the kept
        await connection.send(DROP_BEFORE, {**key, "first": seq - len(derived.turns) + 1})
    return derived
