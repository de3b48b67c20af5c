"""An in-memory store for tests and quick starts. Not durable; one process only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from maya.state.models import TabState
from maya.state.store import Transition, check_step, new_state_of

__all__ = ["MemoryTabStore"]

R = TypeVar("R")


class MemoryTabStore:
    """Tabs in a dict. ``transact`` is atomic because it never awaits between read and write."""

    def __init__(self) -> None:
        self._tabs: dict[str, TabState] = {}

    async def load(self, session_id: str) -> TabState | None:
        """The stored state of ``session_id``, or None."""
        return self._tabs.get(session_id)

    async def transact(
        self, session_id: str, initial: Callable[[], TabState], transition: Transition[R]
    ) -> tuple[TabState, R]:
        """Apply ``transition`` to the session's state and keep the result.

        Raises:
            StateError: whatever the transition raised; nothing was written.
            ValueError: when the new state changed the session id or not the version.
        """
        current = self._tabs.get(session_id)
        if current is None:
            current = initial()
        step, result = transition(current)
        new_state = new_state_of(step)
        # As the protocol says: an unchanged state is not written, so a session whose
        # first call changed nothing stays unknown (as it does in the SQL stores).
        if new_state is not current:
            check_step(current, new_state)
            self._tabs[session_id] = new_state
        return new_state, result

    async def session_ids(self) -> list[str]:
        """Every session held, sorted."""
        return sorted(self._tabs)

    async def aclose(self) -> None:
        """Nothing to release."""
