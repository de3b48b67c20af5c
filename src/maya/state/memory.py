"""An in-memory store for tests and quick starts. Not durable; one process only."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from maya.state.conversations import Conversation, ConversationBounds, MemoryConversations
from maya.state.events import (
    CHECKOUT_EVENT_TYPES,
    REFUSED_OUTCOMES,
    EventOutcome,
    EventResult,
    LinkRecording,
    PaymentEvent,
    Recorded,
    apply_payment_event_change,
    late_link,
    received_after,
    recording_link,
    session_of_idempotency_key,
)
from maya.state.models import TabState
from maya.state.store import Transition, check_step, new_state_of

__all__ = ["MemoryTabStore"]

R = TypeVar("R")


class MemoryTabStore:
    """Tabs in a dict. ``transact`` is atomic because it never awaits between read and write."""

    def __init__(self) -> None:
        self._tabs: dict[str, TabState] = {}
        # Stripe events by id, with what each did; and those kept for a link not yet recorded.
        self._events: dict[str, EventOutcome] = {}
        self._pending: dict[str, list[PaymentEvent]] = {}
        self._paid: dict[str, dict[str, int]] = {}  # link -> paid Checkout Session -> cents
        self._conversations = MemoryConversations()

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

    async def apply_event(self, event: PaymentEvent) -> EventResult:
        """Record a Stripe event and apply it to its link's tab, at once (``TabStore``)."""
        first = self._events.get(event.event_id)
        if first is not None:
            return EventResult(EventOutcome.DUPLICATE, first_outcome=first)
        if event.refused is not None:
            self._events[event.event_id] = event.refused
            return EventResult(event.refused)
        if event.type not in CHECKOUT_EVENT_TYPES or event.payment_id is None:
            self._events[event.event_id] = EventOutcome.IGNORED
            return EventResult(EventOutcome.IGNORED)
        owner = next(
            (s for s in self._tabs.values() if s.find_payment(event.payment_id) is not None), None
        )
        if owner is None:
            return await self._late_event(event)
        counted = dict(self._paid.get(event.payment_id, {}))
        received = received_after(counted, event)
        state, outcome = await self.transact(
            owner.session_id,
            lambda: owner,
            lambda s: apply_payment_event_change(s, event, received),
        )
        if outcome not in REFUSED_OUTCOMES:
            self._paid[event.payment_id] = counted
        self._events[event.event_id] = outcome
        return EventResult(outcome, session_id=owner.session_id, state=state)

    async def _late_event(self, event: PaymentEvent) -> EventResult:
        """An event whose link no tab recorded: a stale link named by its metadata, or kept."""
        link = event.payment_id or ""
        owner_id = session_of_idempotency_key(event.idempotency_key)
        stale = self._tabs.get(owner_id or "")
        if stale is not None:
            received = received_after(dict(self._paid.get(link, {})), event)
            state, outcome = await self.transact(
                stale.session_id, lambda: stale, late_link(event, received)
            )
            if outcome is not EventOutcome.PENDING:
                if outcome not in REFUSED_OUTCOMES:
                    received_after(self._paid.setdefault(link, {}), event)
                self._events[event.event_id] = outcome
                return EventResult(outcome, session_id=stale.session_id, state=state)
        self._events[event.event_id] = EventOutcome.PENDING
        self._pending.setdefault(link, []).append(event)
        return EventResult(EventOutcome.PENDING)

    async def transact_recording_link(
        self, session_id: str, initial: Callable[[], TabState], link: LinkRecording
    ) -> tuple[TabState, Recorded]:
        """Record a link and apply the events kept for it, at once (``TabStore``)."""
        kept = sorted(self._pending.get(link.payment_id, ()), key=lambda e: e.created)
        state, recorded = await self.transact(session_id, initial, recording_link(link, kept))
        self._pending.pop(link.payment_id, None)
        paid = self._paid.setdefault(link.payment_id, {})
        for event, outcome in zip(kept, recorded.outcomes, strict=True):
            self._events[event.event_id] = outcome
            if outcome not in REFUSED_OUTCOMES:
                received_after(paid, event)
        return state, recorded

    async def event_outcome(self, event_id: str) -> EventOutcome | None:
        """What the event ``event_id`` did, or None if it was never received."""
        return self._events.get(event_id)

    async def paid_by_event(self, payment_id: str) -> bool:
        """True when an applied event said link ``payment_id`` was paid (``TabStore``)."""
        return bool(self._paid.get(payment_id))

    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        """The session's conversation; empty when unknown or idle (``TabStore``)."""
        return await self._conversations.load_conversation(session_id, now=now, idle_s=idle_s)

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        """Keep ``turn`` within ``bounds``; forget idle conversations (``TabStore``)."""
        await self._conversations.append_conversation_turn(session_id, turn, now=now, bounds=bounds)

    def change_feed(self) -> None:
        """None: one process only, and the manager hears its own writes."""
        return None

    async def session_ids(self) -> list[str]:
        """Every session held, sorted."""
        return sorted(self._tabs)

    async def aclose(self) -> None:
        """Nothing to release."""
