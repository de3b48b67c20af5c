"""Conversation memory in the SQL stores, written once over ``_transact.SqlConnection``.

Two tables (``_schema.CONVERSATIONS_DDL``, schema version 3): ``conversations`` (one row
per session: how many turns it has had, when the last one was written) and
``conversation_turns`` (the kept turns, by ``seq``). An append is one transaction:
delete idle conversations (a bounded batch; on PostgreSQL rows another writer holds are
skipped, so concurrent writers never wait on each other's pruning), claim or bump the
session's row (which serialises appends to one session), insert the turn, then drop the
oldest turns beyond the bounds.
"""

from __future__ import annotations

from maya.state.conversations import PRUNE_BATCH, Conversation, ConversationBounds, kept_from
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
BUMP_CONVERSATION = (
    "INSERT INTO conversations (session_id, turns_total, last_at) VALUES (:session_id, 1, :now)"
    " ON CONFLICT (session_id) DO UPDATE SET turns_total = conversations.turns_total + 1,"
    " last_at = excluded.last_at RETURNING turns_total"
)
INSERT_TURN = (
    "INSERT INTO conversation_turns (session_id, seq, body, bytes)"
    " VALUES (:session_id, :seq, :body, :bytes)"
)
SELECT_SIZES = (
    "SELECT seq, bytes FROM conversation_turns WHERE session_id = :session_id ORDER BY seq DESC"
)
DROP_THROUGH = "DELETE FROM conversation_turns WHERE session_id = :session_id AND seq <= :seq"


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
    """Keep ``turn`` within ``bounds`` inside the caller's write transaction."""
    key = {"session_id": session_id}
    await connection.execute(
        PRUNE_IDLE.format(skip=skip_locked), {"cutoff": now - bounds.idle_s, "batch": PRUNE_BATCH}
    )
    row = await connection.fetchone(BUMP_CONVERSATION, {**key, "now": now})
    if row is None:  # pragma: no cover - RETURNING always yields the row
        raise RuntimeError("the conversation row was not returned")
    seq = int(row[0])
    size = len(turn.encode())
    await connection.execute(INSERT_TURN, {**key, "seq": seq, "body": turn, "bytes": size})
    sizes = [(int(s), int(b)) for s, b in await connection.fetchall(SELECT_SIZES, key)]
    drop = kept_from(sizes, bounds)
    if drop is not None:
        await connection.execute(DROP_THROUGH, {**key, "seq": drop})
