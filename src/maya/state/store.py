"""The store interface: load a tab, and change one atomically.

A store knows nothing of the tab's rules. ``transact`` runs a pure transition (see
``transitions.py``) on the current state under the store's own atomicity (a per-session
lock in memory, a transaction holding the session's row in SQL) and persists the new
state only if the transition returned a different object. A transition that raises
leaves the stored state untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from maya.state.models import TabState

__all__ = ["TabStore", "Transition"]

R = TypeVar("R")

Transition = Callable[[TabState], tuple[TabState, R]]
"""A pure function from the current state to (new state, result)."""


class TabStore(Protocol):
    """Where tabs live. Implementations: memory, SQLite, PostgreSQL."""

    async def load(self, session_id: str) -> TabState | None:
        """The stored state of ``session_id``, or None if it has never been written."""
        ...

    async def transact(
        self, session_id: str, initial: Callable[[], TabState], transition: Transition[R]
    ) -> tuple[TabState, R]:
        """Apply ``transition`` atomically to the session's state and persist the result.

        ``initial()`` builds the state of a session seen for the first time. Returns the
        state after the transition and the transition's result.

        Raises:
            StateError: whatever the transition raised; nothing was written.
        """
        ...

    async def session_ids(self) -> list[str]:
        """Every session this store holds, sorted."""
        ...

    async def aclose(self) -> None:
        """Release connections and files. Idempotent."""
        ...
