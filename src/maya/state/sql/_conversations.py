"""Conversation memory in the SQL stores, written once over ``_transact.SqlConnection``.

An append claims the session's row (serialising appends), inserts the turn, drops the
oldest beyond the bounds, and now and then deletes a bounded batch of idle conversations.
"""

from __future__ import annotations

from maya.state.conversations import PRUNE_BATCH, PRUNE_EVERY, Conversation, ConversationBounds
from maya.state.sql._transact import SqlConnection

__all__ = ["append_turn", "load"]


SELECT_CONVERSATION = (
    "SELECT c.turns_total, c.last_at, t.body FROM conversations c"
    " LEFT JOIN conversation_turns t ON t.session_id = c.session_id"
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


async def load(
    connection: SqlConnection, session_id: str, *, now: float, idle_s: float
) -> Conversation:
    """The session's conversation in one statement; empty when unknown or idle."""
    rows = await connection.fetchall(SELECT_CONVERSATION, {"session_id": session_id})
    if not rows:
        return Conversation()
    total, last_at, _ = rows[0]
    if float(last_at) < now - idle_s:
        return Conversation()
    return Conversation(tuple(str(body) for _, _, body in rows if body is not None), int(total))


async def append_turn(
    connection: SqlConnection,
    session_id: str,
    turn: str,
    *,
    now: float,
    bounds: ConversationBounds,
    skip_locked: str,
) -> None:
    """Keep ``turn`` within ``bounds`` inside the caller's write transaction.

    Four statements for a turn (five with the idle prune, which runs when a conversation
    begins and every ``PRUNE_EVERY`` turns of one).
    """
    key = {"session_id": session_id}
    cutoff = now - bounds.idle_s
    row = await connection.fetchone(BUMP_CONVERSATION, {**key, "now": now, "cutoff": cutoff})
    if row is None:  # pragma: no cover - RETURNING always yields the row
        raise RuntimeError("the conversation row was not returned")
    seq = int(row[0])
    # Nothing below is read back: on PostgreSQL it goes with the commit, in one trip.
    if seq == 1:
        await connection.send(CLEAR_TURNS, key)
    if seq == 1 or seq % PRUNE_EVERY == 0:
        await connection.send(
            PRUNE_IDLE.format(skip=skip_locked), {"cutoff": cutoff, "batch": PRUNE_BATCH}
        )
    size = len(turn.encode())
    await connection.send(INSERT_TURN, {**key, "seq": seq, "body": turn, "bytes": size})
    await connection.send(
        TRIM, {**key, "seq": seq, "max_turns": bounds.max_turns, "max_bytes": bounds.max_bytes}
    )
