"""Conversation memory: each session's latest turns, kept in the tab store.

Turns are opaque text, kept oldest first within ``ConversationBounds`` (the oldest dropped
first, always whole); a conversation idle for ``idle_s`` reads as empty and is deleted later.
"""

from __future__ import annotations

import os
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = [
    "DEFAULT_IDLE_S",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_TURNS",
    "IDLE_ENV",
    "MAX_BYTES_ENV",
    "MAX_TURNS_ENV",
    "PRUNE_BATCH",
    "PRUNE_EVERY",
    "Conversation",
    "ConversationBounds",
    "ConversationStore",
    "MemoryConversations",
    "kept_from",
]

DEFAULT_MAX_TURNS = 40
"""Turns of one session kept for the model; older ones are forgotten."""
DEFAULT_MAX_BYTES = 256_000
"""Bytes (UTF-8) of one session's kept turns, together."""
DEFAULT_IDLE_S = 4 * 3600.0
"""A conversation untouched this long is forgotten (the tab itself stays)."""

MAX_TURNS_ENV = "MAYA_CONVERSATION_MAX_TURNS"
MAX_BYTES_ENV = "MAYA_CONVERSATION_MAX_BYTES"
IDLE_ENV = "MAYA_CONVERSATION_IDLE_S"

PRUNE_BATCH = 100
"""Idle conversations deleted by one write at most: each write's share stays small."""
PRUNE_EVERY = 16
"""SQL stores look for idle conversations when one begins and every this many turns."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConversationBounds:
    """How much of a conversation is kept, and for how long.

    Attributes:
        max_turns: turns kept per session (at least 1).
        max_bytes: UTF-8 bytes of one session's kept turns together (at least 1); a turn
            larger than this on its own is not kept at all.
        idle_s: seconds without a turn after which a conversation is forgotten (> 0).
    """

    max_turns: int = DEFAULT_MAX_TURNS
    max_bytes: int = DEFAULT_MAX_BYTES
    idle_s: float = DEFAULT_IDLE_S

    def __post_init__(self) -> None:
        if self.max_turns < 1 or self.max_bytes < 1 or not self.idle_s > 0:
            raise ValueError(
                "conversation bounds need max_turns >= 1, max_bytes >= 1 and idle_s > 0,"
                f" not {self.max_turns}, {self.max_bytes}, {self.idle_s}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ConversationBounds:
        """The bounds ``MAYA_CONVERSATION_MAX_TURNS``, ``..._MAX_BYTES`` and ``..._IDLE_S``
        set, the defaults for those unset.

        Raises:
            ValueError: for a value that is not a number in range (named in the message).
        """
        env = os.environ if environ is None else environ
        values: dict[str, float] = {}
        for name, key, kind in (
            (MAX_TURNS_ENV, "max_turns", int),
            (MAX_BYTES_ENV, "max_bytes", int),
            (IDLE_ENV, "idle_s", float),
        ):
            text = env.get(name, "").strip()
            if not text:
                continue
            try:
                values[key] = kind(text)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {text[:20]!r}") from None
        return cls(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Conversation:
    """One session's remembered conversation.

    Attributes:
        turns: the kept turns, oldest first (opaque text, as they were appended).
        count: turns appended since the conversation began, forgotten ones included (0:
            a new conversation); the next turn is number ``count + 1``.
    """

    turns: tuple[str, ...] = ()
    count: int = 0


@runtime_checkable
class ConversationStore(Protocol):
    """What a store adds for conversation memory (memory, SQLite and PostgreSQL do)."""

    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        """The session's conversation; empty when unknown or idle since ``now - idle_s``.

        Raises:
            StoreError: when the store cannot be used.
        """
        ...

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        """Keep ``turn`` as the session's newest, within ``bounds``, in one transaction.

        A conversation idle since ``now - bounds.idle_s`` starts over with this turn;
        the oldest turns go until the session is within ``bounds``. Other idle
        conversations are deleted, at most ``PRUNE_BATCH`` at a time, whenever a
        conversation begins (the memory store: on every write; SQL: also every
        ``PRUNE_EVERY`` turns of one).

        Raises:
            StoreError: when the store cannot be used; nothing was written.
        """
        ...


def kept_from(sizes: list[tuple[int, int]], bounds: ConversationBounds) -> int | None:
    """The newest ``seq`` to drop so ``sizes`` fits ``bounds`` (None: keep them all).

    Args:
        sizes: ``(seq, bytes)`` of a session's turns, newest first.
        bounds: the limits.
    """
    total = 0
    for index, (seq, size) in enumerate(sizes):
        total += size
        if index >= bounds.max_turns or total > bounds.max_bytes:
            return seq
    return None


@dataclass
class _Kept:
    count: int
    last_at: float
    turns: deque[tuple[int, str, int]] = field(default_factory=deque)  # seq, text, bytes


class MemoryConversations:
    """Conversations in a dict: one process only, gone at exit (``MemoryTabStore``'s)."""

    def __init__(self) -> None:
        # Least recently written first, so idle ones are found at the front.
        self._sessions: OrderedDict[str, _Kept] = OrderedDict()

    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        """The session's conversation; empty when unknown or idle (``ConversationStore``)."""
        kept = self._sessions.get(session_id)
        if kept is None or kept.last_at < now - idle_s:
            return Conversation()
        return Conversation(tuple(text for _, text, _ in kept.turns), kept.count)

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        """Keep ``turn`` within ``bounds``; forget idle conversations (``ConversationStore``)."""
        cutoff = now - bounds.idle_s
        pruned = 0
        while self._sessions and pruned < PRUNE_BATCH:
            oldest = next(iter(self._sessions.values()))
            if oldest.last_at >= cutoff:
                break
            self._sessions.popitem(last=False)
            pruned += 1
        kept = self._sessions.get(session_id)
        if kept is None or kept.last_at < cutoff:
            kept = _Kept(count=0, last_at=now)
            self._sessions[session_id] = kept
        kept.count += 1
        kept.last_at = now
        self._sessions.move_to_end(session_id)
        kept.turns.append((kept.count, turn, len(turn.encode())))
        drop = kept_from([(seq, size) for seq, _, size in reversed(kept.turns)], bounds)
        while drop is not None and kept.turns and kept.turns[0][0] <= drop:
            kept.turns.popleft()

    def __len__(self) -> int:
        """Conversations held (idle ones not yet pruned included)."""
        return len(self._sessions)
