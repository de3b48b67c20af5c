"""Stripe's Checkout events applied to the tab, each exactly once.

A store records an event's id with its effect (``TabStore.apply_event``), the rule polling
uses (``settle_payment_change``); an event before its link is kept and applied with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from maya.codes import ErrorCode
from maya.money import Cents
from maya.state.errors import StateError
from maya.state.models import TabState
from maya.state.store import Change, Transition
from maya.state.transitions import (
    mark_payment_failed_change,
    record_credit,
    settle_payment_change,
)

__all__ = [
    "ASYNC_FAILED",
    "ASYNC_SUCCEEDED",
    "CHECKOUT_EVENT_TYPES",
    "COMPLETED",
    "EXPIRED",
    "REFUSED_OUTCOMES",
    "EventOutcome",
    "EventResult",
    "LinkRecording",
    "PaymentEvent",
    "Received",
    "Recorded",
    "apply_payment_event_change",
    "attach_stale_link",
    "late_link",
    "received_after",
    "recording_link",
    "session_of_idempotency_key",
]

COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
EXPIRED = "checkout.session.expired"
CHECKOUT_EVENT_TYPES: frozenset[str] = frozenset(
    {COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED, EXPIRED}
)
"""The event types that can change a tab; every other type is acknowledged and ignored."""


class EventOutcome(StrEnum):
    """What one event did (stored with the event id)."""

    SETTLED = "settled"
    """The payment was applied to the tab by this event."""
    OVERPAID = "overpaid"
    """A second Checkout Session paid a settled link: recorded as credit to refund."""
    ALREADY_SETTLED = "already_settled"
    """The payment had been applied before (by polling or another event): nothing changed."""
    FAILED = "failed"
    """The payment failed (an async debit bounced): no money moved, the tab stays open."""
    AWAITING = "awaiting"
    """The session completed ``unpaid``: the async outcome event will follow."""
    EXPIRED = "expired"
    """That Checkout attempt ended unpaid; the link stays payable."""
    PENDING = "pending"
    """No recorded link has this id yet: kept, applied when a link with the id is recorded."""
    IGNORED = "ignored"
    """Not a Checkout outcome, or nothing that concerns a tab."""
    DUPLICATE = "duplicate"
    """The event id was seen before: nothing changed (never stored: the first one is)."""
    WRONG_MODE = "wrong_mode"
    """Its ``livemode`` is not the configured mode: changed nothing, kept for inspection."""
    WRONG_CURRENCY = "wrong_currency"
    """Its session's currency is not the tab's: changed nothing, kept for inspection."""


REFUSED_OUTCOMES: frozenset[EventOutcome] = frozenset(
    {EventOutcome.WRONG_MODE, EventOutcome.WRONG_CURRENCY}
)
"""Outcomes of events that were received and kept but whose money was not accepted."""


@dataclass(frozen=True, slots=True)
class PaymentEvent:
    """The part of a Stripe event that matters to a tab.

    Attributes:
        event_id: Stripe's ``evt_...`` id, the key that makes delivery exactly once.
        type: the event type (``checkout.session.completed``...).
        payment_id: the payment link (``data.object.payment_link``), None if absent.
        payment_status: the Checkout Session's ``payment_status``.
        amount_total: what the session charged, in cents.
        created: the event's Unix time (orders events kept for a link not yet recorded).
        idempotency_key: the ``metadata.idempotency_key`` Maya put on the link, if any.
        checkout_session: the Checkout Session's id (``cs_...``): two sessions paid on
            one link are two payments, the second credit to refund.
        livemode: the event's ``livemode`` (None when absent).
        currency: the session's ``currency``, lowercase (None when absent).
        refused: set (``WRONG_MODE``) when the receiver found the event's mode is not
            the configured one: the store keeps it with that outcome and applies nothing.
    """

    event_id: str
    type: str
    payment_id: str | None
    payment_status: str | None
    amount_total: Cents | None
    created: int
    idempotency_key: str | None = None
    checkout_session: str | None = None
    livemode: bool | None = None
    currency: str | None = None
    refused: EventOutcome | None = None

    @property
    def paid(self) -> bool:
        """True when the event says its Checkout Session's money arrived."""
        return (self.type == COMPLETED and self.payment_status == "paid") or (
            self.type == ASYNC_SUCCEEDED
        )


@dataclass(frozen=True, slots=True)
class Received:
    """What a link has received, by the paid events stored so far (this one included).

    Attributes:
        sessions: how many distinct Checkout Sessions were paid.
        total_cents: what they paid together.
    """

    sessions: int
    total_cents: Cents


def received_after(paid: dict[str, Cents], event: PaymentEvent) -> Received | None:
    """Add ``event`` (if it paid) to ``paid`` (session id -> amount) and total them.

    An event without a session id counts as a session of its own (its event id).
    """
    if not event.paid:
        return None
    paid.setdefault(event.checkout_session or event.event_id, event.amount_total or 0)
    return Received(len(paid), sum(paid.values()))


@dataclass(frozen=True, slots=True)
class EventResult:
    """What the store did with one event.

    Attributes:
        outcome: see ``EventOutcome``; ``DUPLICATE`` when the id had been seen.
        session_id: the tab the event belongs to, when known.
        state: the tab after the event (None when no tab was touched or read).
        first_outcome: for a duplicate, what the first delivery did.
    """

    outcome: EventOutcome
    session_id: str | None = None
    state: TabState | None = None
    first_outcome: EventOutcome | None = None


def session_of_idempotency_key(key: str | None) -> str | None:
    """The session id inside an idempotency key ``{session}_{unix_ts}_v{version}``, if any."""
    if not key:
        return None
    parts = key.rsplit("_", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].startswith("v"):
        return None
    return parts[0] or None


def apply_payment_event_change(
    state: TabState, event: PaymentEvent, received: Received | None = None
) -> tuple[Change, EventOutcome]:
    """Apply one Checkout event to the tab that holds its payment link.

    An event in another currency than the tab's changes nothing (``WRONG_CURRENCY``).
    ``completed`` with ``paid`` and ``async_payment_succeeded`` settle through
    ``settle_payment_change`` (once: a payment already settled, by polling or an earlier
    event, changes nothing) unless ``received`` says a second Checkout Session paid the
    link: what it paid beyond the first becomes credit flagged ``needs_reconciliation``
    (``record_credit``), never dropped. ``async_payment_failed`` marks the payment
    failed (no money moves, the tab stays open; a settled payment stays settled);
    ``completed`` with ``unpaid`` waits for the async event; ``expired`` ends that
    attempt and changes nothing, so a ``completed`` arriving after it still settles.

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the link is not this session's.
    """
    record = state.find_payment(event.payment_id or "")
    if record is None:
        raise StateError(
            ErrorCode.PAYMENT_NOT_FOUND,
            "that payment does not belong to this tab",
            payment_id=(event.payment_id or "")[:80],
        )
    payment_id = record.payment_id or ""
    unchanged = Change(state, state)
    if event.currency is not None and event.currency != state.currency:
        # 3100 yen is not 31 dollars: an amount in another currency settles nothing.
        return unchanged, EventOutcome.WRONG_CURRENCY
    if event.paid:
        outcome = EventOutcome.ALREADY_SETTLED
        step = unchanged
        if not record.settled:
            step, _ = settle_payment_change(
                state, payment_id=payment_id, amount_paid_cents=event.amount_total
            )
            outcome = EventOutcome.SETTLED
        if received is not None and received.sessions > 1:
            after, extra = record_credit(
                step.after, payment_id=payment_id, amount_received_cents=received.total_cents
            )
            if extra:
                at = next(i for i, r in enumerate(after.payments) if r.payment_id == payment_id)
                step = Change(
                    state, after, removed_through_seq=step.removed_through_seq, payments=(at,)
                )
                outcome = EventOutcome.OVERPAID
        return step, outcome
    if record.settled and event.type in CHECKOUT_EVENT_TYPES:
        return unchanged, EventOutcome.ALREADY_SETTLED
    if event.type == ASYNC_FAILED:
        return mark_payment_failed_change(state, payment_id=payment_id), EventOutcome.FAILED
    if event.type == COMPLETED and event.payment_status == "unpaid":
        return unchanged, EventOutcome.AWAITING
    if event.type == EXPIRED:
        return unchanged, EventOutcome.EXPIRED
    return unchanged, EventOutcome.IGNORED


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording a link did with the events kept for it.

    Attributes:
        outcomes: each kept event's outcome, in the order applied.
        refused: the recording's own refusal (``PAYMENT_SUPERSEDED``) when the link was
            attached to its superseded record anyway, because kept events say it was
            paid: the money is applied (never lost) and the caller still hears that the
            link is stale (and deactivates it).
    """

    outcomes: tuple[EventOutcome, ...]
    refused: StateError | None = None


def attach_stale_link(
    state: TabState, *, idempotency_key: str | None, payment_id: str, url: str | None = None
) -> Change | None:
    """Attach a link to its superseded payment record that never got one; None if not that.

    A link made for a snapshot the tab has since moved past is refused when it is
    recorded (and deactivated); but if it was paid meanwhile, the money must still be
    applied: attached to its own (superseded) record, it settles as any superseded link
    does, what it paid beyond what is still owed becoming credit to refund.
    """
    if not idempotency_key:
        return None
    found = [i for i, r in enumerate(state.payments) if r.idempotency_key == idempotency_key]
    if not found or state.find_payment(payment_id) is not None:
        return None
    at = found[0]
    record = state.payments[at]
    if not record.superseded or record.payment_id is not None:
        return None
    attached = record.model_copy(update={"payment_id": payment_id, "url": url})
    payments = (*state.payments[:at], attached, *state.payments[at + 1 :])
    after = state.model_copy(update={"payments": payments, "version": state.version + 1})
    return Change(state, after, payments=(at,))


@dataclass(frozen=True, slots=True)
class LinkRecording:
    """A link to record on its tab (``TabStore.transact_recording_link``).

    Attributes:
        payment_id: the link.
        record: the rule that attaches it (raises ``StateError`` when it cannot).
        stale: attaches it to its superseded record instead (``attach_stale_link``),
            used only when ``record`` refused it as superseded but it was paid.
    """

    payment_id: str
    record: Callable[[TabState], Change]
    stale: Callable[[TabState], Change | None] | None = None


def recording_link(link: LinkRecording, events: Sequence[PaymentEvent]) -> Transition[Recorded]:
    """The transition that records ``link`` and then applies its kept events.

    The events run oldest first on the state the recording made. The transition returns
    the recording's ``Change`` itself when no event changed anything (a SQL store then
    keeps its fast path), else the final bare state (the store compares it with the
    stored one). When ``link.record`` refuses the link as superseded but a kept event
    says it was paid, ``link.stale`` attaches it to its superseded record instead, the
    events apply, and the refusal is returned (not raised) in ``Recorded.refused``.
    """

    def run(state: TabState) -> tuple[TabState | Change, Recorded]:
        refused: StateError | None = None
        try:
            step = link.record(state)
        except StateError as exc:
            attached = None
            stale = link.stale
            paid_meanwhile = any(event.paid for event in events)
            if exc.code is ErrorCode.PAYMENT_SUPERSEDED and stale is not None and paid_meanwhile:
                attached = stale(state)
            if attached is None:
                raise
            step, refused = attached, exc
        after = step.after
        outcomes: list[EventOutcome] = []
        sessions: dict[str, Cents] = {}  # the link was just recorded: nothing paid it yet
        for event in events:
            counted = dict(sessions)
            received = received_after(counted, event)
            change, outcome = apply_payment_event_change(after, event, received)
            if outcome not in REFUSED_OUTCOMES:
                sessions = counted
            after = change.after
            outcomes.append(outcome)
        return (step if after is step.after else after), Recorded(tuple(outcomes), refused)

    return run


def late_link(event: PaymentEvent, received: Received | None) -> Transition[EventOutcome]:
    """For an event whose link no tab recorded: apply it if its metadata names a stale link.

    The event's ``idempotency_key`` (our link metadata) names the session and the
    payment record; when that record is superseded and never got its link (it was
    refused as stale, perhaps after the customer had paid), the link is attached and
    the event applied. Otherwise nothing changes and the event stays ``PENDING``.
    """

    def run(state: TabState) -> tuple[TabState | Change, EventOutcome]:
        attached = attach_stale_link(
            state, idempotency_key=event.idempotency_key, payment_id=event.payment_id or ""
        )
        if attached is None or event.payment_id is None:
            return state, EventOutcome.PENDING
        step, outcome = apply_payment_event_change(attached.after, event, received)
        return (attached if step.after is attached.after else step.after), outcome

    return run
