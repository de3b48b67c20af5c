"""Conversation memory for the agent: each session's turns, kept whole in the tab store.

Any process on that store serves the next turn; the kept history always starts with a
customer's message and never splits a function call from its response.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from itertools import chain

from google.genai import types
from pydantic import TypeAdapter, ValidationError

from maya.state.conversations import (
    ConversationBounds,
    ConversationStore,
    MemoryConversations,
)
from maya.state.errors import StoreError
from maya.state.store import TabStore

__all__ = ["ConversationHistory", "history_problems"]

_log = logging.getLogger("maya.agent")

_TURN = TypeAdapter(list[types.Content])
"""A turn's JSON: a list of contents (bytes such as thought signatures in base64)."""

PARSED_TURNS = 4096
"""Stored turns kept parsed in this process: each turn of a conversation is read back on
every later turn, and parsing it into google-genai's types costs more than the read."""
PARSED_SESSIONS = 1024
"""Sessions whose last read conversation is kept as parsed turns, for the next read."""


class _ParsedTurns:
    """The contents of recently read turns, by their stored JSON (least recently used out),
    and each session's last read conversation as parsed turns.

    The contents are shared between loads: the agent never changes a loaded content (it
    builds new lists and contents), so a cached one is handed out as it is.
    """

    def __init__(self, size: int, sessions: int = PARSED_SESSIONS) -> None:
        self._size = size
        self._sessions = sessions
        self._by_text: OrderedDict[str, tuple[types.Content, ...]] = OrderedDict()
        self._last: OrderedDict[str, tuple[tuple[str, ...], list[tuple[types.Content, ...]]]]
        self._last = OrderedDict()

    def parse(self, text: str) -> tuple[types.Content, ...]:
        found = self._by_text.get(text)
        if found is not None:
            self._by_text.move_to_end(text)
            return found
        parsed = tuple(_TURN.validate_json(text))
        self._by_text[text] = parsed
        if len(self._by_text) > self._size:
            self._by_text.popitem(last=False)
        return parsed

    def contents(self, session_id: str, turns: Sequence[str]) -> list[types.Content]:
        """The contents of a session's kept ``turns``, oldest first.

        A kept conversation changes by dropping its oldest turns and adding new ones, so
        the one last read for the session is looked for at the start of ``turns``: what
        they share is reused as parsed (two comparisons in C, not a lookup per turn), and
        only the turns after it are parsed (or found by their text).
        """
        turns = tuple(turns)
        last = self._last.pop(session_id, None)
        parsed: list[tuple[types.Content, ...]] = []
        if last is not None and turns:
            known, known_parsed = last
            try:
                first = known.index(turns[0])
            except ValueError:  # nothing shared
                first = len(known)
            if first < len(known) and known[first:] == turns[: len(known) - first]:
                parsed = known_parsed[first:]
        parsed.extend(self.parse(turn) for turn in turns[len(parsed) :])
        self._last[session_id] = (turns, parsed)
        if len(self._last) > self._sessions:
            self._last.popitem(last=False)
        return list(chain.from_iterable(parsed))


class ConversationHistory:
    """The conversations of many sessions, in a ``ConversationStore``, turn by turn."""

    def __init__(
        self,
        store: ConversationStore | None = None,
        *,
        bounds: ConversationBounds | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Keep conversations in ``store``.

        Args:
            store: where turns are kept (default: in this process's memory only).
            bounds: turns, bytes and idle time kept (default: ``ConversationBounds.from_env``).
            clock: Unix seconds, for the idle time (tests pass a fake clock).

        Raises:
            ValueError: when ``MAYA_CONVERSATION_*`` holds a bad value (``bounds`` unset).
        """
        self.store: ConversationStore = store if store is not None else MemoryConversations()
        self.bounds = bounds if bounds is not None else ConversationBounds.from_env()
        self._clock = clock
        self._parsed = _ParsedTurns(PARSED_TURNS)

    @classmethod
    def of(
        cls,
        store: TabStore,
        *,
        bounds: ConversationBounds | None = None,
        clock: Callable[[], float] = time.time,
    ) -> ConversationHistory:
        """Conversations kept beside the tabs of ``store`` (every ``TabStore`` keeps them)."""
        return cls(store, bounds=bounds, clock=clock)

    async def load(self, session_id: str) -> tuple[list[types.Content], int]:
        """The kept conversation of ``session_id``, oldest first, and how many turns it had.

        A store that cannot be read, or a turn that no longer parses, is logged and
        treated as a new conversation: the customer still gets an answer.
        """
        try:
            conversation = await self.store.load_conversation(
                session_id, now=self._clock(), idle_s=self.bounds.idle_s
            )
        except StoreError as exc:
            _log.warning("conversation memory unavailable, answering without it: %s", exc)
            return [], 0
        try:
            contents = self._parsed.contents(session_id, conversation.turns)
        except ValidationError as exc:
            _log.warning(
                "a stored conversation no longer parses, starting afresh: %s",
                exc.errors(include_input=False, include_url=False)[:1],
            )
            return [], conversation.count
        return contents, conversation.count

    async def contents(self, session_id: str) -> list[types.Content]:
        """The kept conversation of ``session_id``, oldest first (empty when unknown)."""
        return (await self.load(session_id))[0]

    async def append_turn(self, session_id: str, turn: Iterable[types.Content]) -> None:
        """Keep one finished turn; the store drops the oldest beyond the bounds.

        A store that cannot be written is logged: the turn has happened, only its
        memory is lost.
        """
        text = _TURN.dump_json(list(turn), exclude_none=True).decode()
        try:
            await self.store.append_conversation_turn(
                session_id, text, now=self._clock(), bounds=self.bounds
            )
        except StoreError as exc:
            _log.warning("a turn could not be remembered: %s", exc)


def _empty(part: types.Part) -> bool:
    # A signed part may carry empty text: Gemini wants it back exactly as it sent it.
    return not (
        part.text
        or part.thought_signature
        or part.function_call is not None
        or part.function_response is not None
        or part.inline_data is not None
        or part.file_data is not None
    )


def history_problems(contents: Sequence[types.Content]) -> list[str]:
    """What in ``contents`` (a request about to be sent) breaks Gemini's rules.

    The rules: it starts and ends with the user, roles alternate, no part is empty (a
    part with only a thought signature counts as full: it must be echoed), and
    every model turn with function calls is followed by a user turn holding exactly their
    responses (same names and ids, in order). Empty when all is well.
    """
    if not contents:
        return ["no contents"]
    problems: list[str] = []
    roles = [content.role for content in contents]
    if roles[0] != "user" or roles[-1] != "user":
        problems.append(f"must start and end with the user, not {roles[0]}..{roles[-1]}")
    for index in range(1, len(roles)):
        if roles[index] == roles[index - 1]:
            problems.append(f"two {roles[index]} turns in a row at {index}")
    for index, content in enumerate(contents):
        parts = content.parts or []
        if not parts or any(_empty(part) for part in parts):
            problems.append(f"content {index} has an empty part")
        calls = [p.function_call for p in parts if p.function_call is not None]
        if not calls:
            continue
        following = contents[index + 1].parts or [] if index + 1 < len(contents) else []
        answers = [p.function_response for p in following if p.function_response is not None]
        asked = [(c.name, c.id) for c in calls]
        given = [(a.name, a.id) for a in answers]
        if asked != given or len(answers) != len(following):
            problems.append(f"content {index}: calls {asked} are answered by {given}")
    return problems
