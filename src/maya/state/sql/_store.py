"""What both SQL stores write the same way: a tab, an event, a link with its kept events.

Each is one algorithm inside the store's own ``_write`` transaction; a store supplies
``_write`` and the lock that serialises an event with the recording of its link.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from maya.state.events import EventOutcome, EventResult, LinkRecording, PaymentEvent, Recorded
from maya.state.models import TabState
from maya.state.sql import _events, _transact
from maya.state.sql._transact import KnownStates, SqlConnection
from maya.state.store import ClosedByBlock, Transition

__all__ = ["SqlStore"]

R = TypeVar("R")
T = TypeVar("T")


class SqlStore(ClosedByBlock):
    """The ``TabStore`` writes of a SQL store, over its ``_write``."""

    _clock: Callable[[], float]
    _known: KnownStates
    _key_lock: str | None = None

    @abstractmethod
    async def _write(
        self,
        work: Callable[[SqlConnection], Coroutine[Any, Any, T]],
        written: Callable[[T], tuple[bool, TabState | None]],
    ) -> T:
        """Run ``work`` in one write transaction; commit when ``written`` says so.

        ``written`` gives (commit?, the stored state to remember in ``KnownStates``).
        """

    @abstractmethod
    async def _read(self, work: Callable[[SqlConnection], Coroutine[Any, Any, T]], empty: T) -> T:
        """Run ``work`` on a connection; ``empty`` when the database holds no tables yet."""

    async def transact(
        self, session_id: str, initial: Callable[[], TabState], transition: Transition[R]
    ) -> tuple[TabState, R]:
        """Apply ``transition`` to the session's state in one transaction holding its row.

        Only what changed is written; nothing when the transition returns the state it
        was given.

        Raises:
            StateError: whatever the transition raised (nothing was written);
                ``PAYMENT_SUPERSEDED`` when a payment id already belongs to another
                session; ``CONCURRENT_UPDATE`` if the row changed under the lock (a bug).
            StoreError: when the store cannot be used (closed, read-only, unreachable,
                its schema too new).
        """
        done = await self._write(
            lambda driver: _transact.transact(
                driver, session_id, initial, transition, clock=self._clock, known=self._known
            ),
            lambda done: (done.wrote, done.stored),
        )
        return done.state, done.result

    async def apply_event(self, event: PaymentEvent) -> EventResult:
        """Record a Stripe event and its effect in one transaction (``TabStore``).

        Raises:
            StoreError: when the store cannot be used.
        """
        done = await self._write(
            lambda driver: _events.apply_event(
                driver, event, clock=self._clock, known=self._known, key_lock=self._key_lock
            ),
            lambda done: (done.commit, done.stored),
        )
        return done.result

    async def transact_recording_link(
        self, session_id: str, initial: Callable[[], TabState], link: LinkRecording
    ) -> tuple[TabState, Recorded]:
        """Record a link and apply the events kept for it, in one transaction (``TabStore``).

        Raises:
            StateError: whatever ``link.record`` raised; nothing was written.
            StoreError: when the store cannot be used.
        """
        done, _ = await self._write(
            lambda driver: _events.record_link(
                driver,
                session_id,
                initial,
                link,
                clock=self._clock,
                known=self._known,
                key_lock=self._key_lock,
            ),
            lambda done: (done[1], done[0].stored),
        )
        return done.state, done.result

    async def event_outcome(self, event_id: str) -> EventOutcome | None:
        """What the event ``event_id`` did, or None if it was never received.

        Raises:
            StoreError: when the store cannot be used.
        """
        return await self._read(lambda driver: _events.event_outcome(driver, event_id), None)

    async def paid_by_event(self, payment_id: str) -> bool:
        """True when an applied event said link ``payment_id`` was paid (``TabStore``).

        Raises:
            StoreError: when the store cannot be used.
        """
        return await self._read(lambda driver: _events.paid_by_event(driver, payment_id), False)
