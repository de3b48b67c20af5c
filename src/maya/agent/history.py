"""Per-session conversation history, kept in memory and bounded.

History is stored turn by turn: a turn is the customer's message and everything the model
and the tools said until Maya's reply. Trimming drops whole turns from the front, so the
kept history always starts with a customer's message and never splits a function call
from its response (Gemini rejects a call without its answer).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence

from google.genai import types

__all__ = ["DEFAULT_MAX_SESSIONS", "DEFAULT_MAX_TURNS", "SessionHistory", "history_problems"]

DEFAULT_MAX_TURNS = 40
"""Turns of one session kept for the model; older ones are forgotten."""

DEFAULT_MAX_SESSIONS = 1000
"""Sessions kept at once; the least recently used one is dropped beyond this."""


class SessionHistory:
    """The conversations of many sessions, each bounded to its latest turns."""

    def __init__(
        self, *, max_turns: int = DEFAULT_MAX_TURNS, max_sessions: int = DEFAULT_MAX_SESSIONS
    ) -> None:
        """Create an empty history.

        Args:
            max_turns: turns kept per session (at least 1).
            max_sessions: sessions kept (at least 1); the least recently used goes first.
        """
        self.max_turns = max(1, max_turns)
        self.max_sessions = max(1, max_sessions)
        self._sessions: OrderedDict[str, deque[tuple[types.Content, ...]]] = OrderedDict()

    def contents(self, session_id: str) -> list[types.Content]:
        """The kept conversation of ``session_id``, oldest first (empty when unknown)."""
        turns = self._sessions.get(session_id)
        if turns is None:
            return []
        self._sessions.move_to_end(session_id)
        return [content for turn in turns for content in turn]

    def append_turn(self, session_id: str, turn: Iterable[types.Content]) -> None:
        """Keep one finished turn; drops the oldest turn or session beyond the bounds."""
        turns = self._sessions.get(session_id)
        if turns is None:
            turns = deque(maxlen=self.max_turns)
            self._sessions[session_id] = turns
        self._sessions.move_to_end(session_id)
        turns.append(tuple(turn))
        while len(self._sessions) > self.max_sessions:
            self._sessions.popitem(last=False)

    def clear(self, session_id: str) -> None:
        """Forget ``session_id``."""
        self._sessions.pop(session_id, None)


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
