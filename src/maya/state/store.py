"""The store interface: load a tab, and change one atomically.

A store knows nothing of the tab's rules. ``transact`` runs a pure transition (see
``transitions.py``) on the current state under the store's own atomicity (a per-session
lock in memory, a transaction holding the session's row in SQL) and persists the new
state only if the transition returned a different object. A transition that raises
leaves the stored state untouched.

A transition may return its new state bare (any rule can; the store then compares it
with the old one) or as a ``Change`` that also says what changed, so a SQL store writes
exactly that and never looks at the rest of the tab: an order is one row update and one
item insert however long the tab already is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from maya.state.models import OrderedItem, TabState

__all__ = ["Change", "TabStore", "Transition", "check_step", "new_state_of"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Change:
    """A new state together with exactly what makes it differ from the one it came from.

    ``after is before`` means nothing changed. A store uses the description only when
    ``before`` is the very state it handed to the transition; otherwise it compares
    ``after`` with what it holds, as it does for a bare state.

    Attributes:
        before: the state the rule was given.
        after: the new state (its version above ``before``'s when it differs).
        added_items: items appended to the tab.
        removed_through_seq: items with ``seq`` up to this one left the tab (0: none).
        payments: indexes into ``after.payments`` of records that are new or changed.
    """

    before: TabState
    after: TabState
    added_items: tuple[OrderedItem, ...] = ()
    removed_through_seq: int = 0
    payments: tuple[int, ...] = ()


Transition = Callable[[TabState], tuple[TabState | Change, R]]
"""A pure function from the current state to (new state or ``Change``, result)."""


def new_state_of(step: TabState | Change) -> TabState:
    """The new state a transition returned, bare or inside a ``Change``."""
    return step.after if isinstance(step, Change) else step


def check_step(current: TabState, new_state: TabState) -> None:
    """Refuse a new state no store may write: another session's, or an unversioned one.

    Every write raises the version: a SQL store trusts an unchanged version to mean an
    unchanged tab (it keeps the last state it saw instead of reading it again).

    Raises:
        ValueError: when ``new_state`` changed the session id or did not raise the version.
    """
    if new_state.session_id != current.session_id:
        raise ValueError("a transition must not change the session id")
    if new_state.version <= current.version:
        raise ValueError(
            f"a transition that changes the tab must raise its version (was {current.version},"
            f" got {new_state.version})"
        )


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
        state after the transition (a ``Change``'s ``after``) and the transition's result.

        Raises:
            StateError: whatever the transition raised; nothing was written.
            ValueError: when the new state changed the session id or not the version.
        """
        ...

    async def session_ids(self) -> list[str]:
        """Every session this store holds, sorted."""
        ...

    async def aclose(self) -> None:
        """Release connections and files. Idempotent."""
        ...
