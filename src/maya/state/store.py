"""The store contract (``TabStore``): tabs, Stripe events and conversations, atomically.

A store knows nothing of the tab's rules: ``transact`` runs a pure transition under the
store's own atomicity and persists it only if it changed. Every store implements it all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self, TypeVar

from maya.state.conversations import ConversationStore
from maya.state.models import OrderedItem, TabState

if TYPE_CHECKING:
    from maya.state.events import EventOutcome, EventResult, LinkRecording, PaymentEvent, Recorded
    from maya.state.watch import ChangeFeed

__all__ = ["Change", "ClosedByBlock", "TabStore", "Transition", "check_step", "new_state_of"]

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


class TabStore(ConversationStore, Protocol):
    """Where tabs, their Stripe events and conversations live: memory, SQLite, PostgreSQL.

    Every method is part of the contract; no caller asks a store what it can do.
    """

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

    async def transact_recording_link(
        self, session_id: str, initial: Callable[[], TabState], link: LinkRecording
    ) -> tuple[TabState, Recorded]:
        """``transact(recording_link(link, kept))``, ``kept`` read in the transaction.

        The events kept for ``link.payment_id`` are read serialised with ``apply_event``
        for the same link, so none slips in between, and marked in the same commit.

        Raises:
            StateError: whatever ``link.record`` raised (nothing was written), unless
                ``link.stale`` attached the link so its kept payment applies: then the
                refusal is in ``Recorded.refused`` and the rest was committed.
            StoreError: when the store cannot be used.
        """
        ...

    async def apply_event(self, event: PaymentEvent) -> EventResult:
        """Record ``event`` and its effect in one transaction, unless its id was seen.

        The tab is found by the payment link id and its row held while
        ``apply_payment_event_change`` runs, as in ``transact``. With no recorded link
        of that id, a Checkout event is kept as ``PENDING``; an event that names no link,
        or is not a Checkout event, is stored as ``IGNORED``.

        Raises:
            StoreError: when the store cannot be used.
        """
        ...

    async def event_outcome(self, event_id: str) -> EventOutcome | None:
        """What the event with this id did, or None if it was never received."""
        ...

    async def paid_by_event(self, payment_id: str) -> bool:
        """True when an applied event said link ``payment_id`` was paid.

        Such a link is followed by webhook: its later payments arrive as events too.
        """
        ...

    def change_feed(self) -> ChangeFeed | None:
        """A feed of commits made by any process (PostgreSQL's ``LISTEN``, SQLite's polled
        ``data_version``), or None (one process only)."""
        ...

    async def session_ids(self) -> list[str]:
        """Every session this store holds, sorted."""
        ...

    async def aclose(self) -> None:
        """Release connections and files. Idempotent."""
        ...


class ClosedByBlock(ABC):
    """``async with store: ...`` closes the store (``aclose``) when the block ends."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @abstractmethod
    async def aclose(self) -> None:
        """Release what the store holds. Idempotent."""
