"""Stripe events in the SQL stores: the event id and its effect in one transaction.

The event row is inserted first (a redelivery inserts nothing and stops), then its tab is
changed under its row lock; a link's recording applies the events kept for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from maya.state.errors import StoreError
from maya.state.events import (
    CHECKOUT_EVENT_TYPES,
    EventOutcome,
    EventResult,
    LinkRecording,
    PaymentEvent,
    Received,
    Recorded,
    apply_payment_event_change,
    late_link,
    recording_link,
    session_of_idempotency_key,
)
from maya.state.models import TabState
from maya.state.sql import _transact
from maya.state.sql._transact import KnownStates, SqlConnection

__all__ = ["EventWrite", "apply_event", "event_outcome", "paid_by_event", "record_link"]

INSERT_EVENT = (
    "INSERT INTO stripe_events (event_id, type, payment_link, idempotency_key,"
    " payment_status, amount_total, checkout_session, paid, created, received_at, outcome,"
    " session_id, currency, livemode)"
    " VALUES (:event_id, :type, :payment_link, :idempotency_key, :payment_status,"
    " :amount_total, :checkout_session, :paid, :created, :received_at, :outcome, NULL,"
    " :currency, :livemode)"
    " ON CONFLICT (event_id) DO NOTHING"
)
SELECT_OUTCOME = "SELECT outcome FROM stripe_events WHERE event_id = :event_id"
SET_OUTCOME = (
    "UPDATE stripe_events SET outcome = :outcome, session_id = :session_id"
    " WHERE event_id = :event_id"
)
SELECT_LINK_SESSION = "SELECT session_id FROM payments WHERE payment_id = :payment_id"
SELECT_TAB_EXISTS = "SELECT 1 FROM tabs WHERE session_id = :session_id"
SELECT_PAID_SESSIONS = (
    "SELECT COALESCE(checkout_session, event_id), MAX(amount_total) FROM stripe_events"
    " WHERE payment_link = :payment_id AND paid"
    " AND outcome NOT IN ('wrong_mode', 'wrong_currency')"
    " GROUP BY COALESCE(checkout_session, event_id)"
)
SELECT_PAID_BY_EVENT = (
    "SELECT 1 FROM stripe_events WHERE payment_link = :payment_id AND paid"
    " AND outcome NOT IN ('pending', 'wrong_mode', 'wrong_currency') LIMIT 1"
)
SELECT_PENDING = (
    "SELECT event_id, type, payment_link, payment_status, amount_total, created,"
    " idempotency_key, checkout_session, currency, livemode FROM stripe_events"
    " WHERE payment_link = :payment_id AND outcome = 'pending'"
    " ORDER BY created, received_at, event_id"
)


@dataclass(frozen=True, slots=True)
class EventWrite:
    """What an event transaction did, for the store to finish it.

    Attributes:
        result: the answer for the caller.
        commit: False for a duplicate (nothing was written: roll back).
        stored: the tab's stored state after the commit, for ``KnownStates``.
    """

    result: EventResult
    commit: bool
    stored: TabState | None


def _no_new_tab() -> TabState:
    # The tab is found through its payments row, which cannot exist without it.
    raise StoreError("a payment's session vanished while its event was applied")


async def apply_event(
    connection: SqlConnection,
    event: PaymentEvent,
    *,
    clock: Callable[[], float],
    known: KnownStates,
    key_lock: str | None,
) -> EventWrite:
    """Record ``event`` and apply it to the tab of its link, inside the caller's transaction.

    Raises:
        StoreError: when the link's session vanished (a bug).
    """
    if key_lock is not None and event.payment_id is not None:
        await connection.execute(key_lock, {"key": event.payment_id})
    relevant = (
        event.type in CHECKOUT_EVENT_TYPES and event.payment_id is not None and not event.refused
    )
    initial_outcome = event.refused or (EventOutcome.PENDING if relevant else EventOutcome.IGNORED)
    inserted = await connection.execute(
        INSERT_EVENT,
        {
            "event_id": event.event_id,
            "type": event.type,
            "payment_link": event.payment_id,
            "idempotency_key": event.idempotency_key,
            "payment_status": event.payment_status,
            "amount_total": event.amount_total,
            "checkout_session": event.checkout_session,
            "paid": event.paid,
            "created": event.created,
            "received_at": clock(),
            "outcome": initial_outcome.value,
            "currency": event.currency,
            "livemode": event.livemode,
        },
    )
    if not inserted:
        row = await connection.fetchone(SELECT_OUTCOME, {"event_id": event.event_id})
        first = EventOutcome(row[0]) if row is not None else None
        return EventWrite(
            EventResult(EventOutcome.DUPLICATE, first_outcome=first), commit=False, stored=None
        )
    if not relevant:
        return EventWrite(EventResult(initial_outcome), commit=True, stored=None)
    received: Received | None = None
    if event.paid:
        sessions = await connection.fetchall(SELECT_PAID_SESSIONS, {"payment_id": event.payment_id})
        received = Received(len(sessions), sum(int(str(r[1] or 0)) for r in sessions))
    row = await connection.fetchone(SELECT_LINK_SESSION, {"payment_id": event.payment_id})
    if row is None:
        # No tab recorded this link. Our metadata may name the session of a link that
        # was refused as stale (and so never recorded): its payment still applies.
        owner = session_of_idempotency_key(event.idempotency_key)
        if (
            owner is None
            or await connection.fetchone(SELECT_TAB_EXISTS, {"session_id": owner}) is None
        ):
            return EventWrite(EventResult(EventOutcome.PENDING), commit=True, stored=None)
        session_id = owner
        done = await _transact.transact(
            connection, owner, _no_new_tab, late_link(event, received), clock=clock, known=known
        )
        if done.result is EventOutcome.PENDING:
            return EventWrite(EventResult(EventOutcome.PENDING), commit=True, stored=done.stored)
    else:
        session_id = str(row[0])
        done = await _transact.transact(
            connection,
            session_id,
            _no_new_tab,
            lambda state: apply_payment_event_change(state, event, received),
            clock=clock,
            known=known,
        )
    await connection.execute(
        SET_OUTCOME,
        {"outcome": done.result.value, "session_id": session_id, "event_id": event.event_id},
    )
    return EventWrite(
        EventResult(done.result, session_id=session_id, state=done.state),
        commit=True,
        stored=done.stored,
    )


async def record_link(
    connection: SqlConnection,
    session_id: str,
    initial: Callable[[], TabState],
    link: LinkRecording,
    *,
    clock: Callable[[], float],
    known: KnownStates,
    key_lock: str | None,
) -> tuple[_transact.Outcome[Recorded], bool]:
    """Record ``link`` and apply its kept events, inside the caller's transaction.

    Returns the transaction's outcome and whether to commit (something was written).

    Raises:
        StateError: whatever ``link.record`` raised; nothing may be committed.
    """
    if key_lock is not None:
        await connection.execute(key_lock, {"key": link.payment_id})
    rows = await connection.fetchall(SELECT_PENDING, {"payment_id": link.payment_id})
    kept = [_decode(row) for row in rows]
    done = await _transact.transact(
        connection,
        session_id,
        initial,
        recording_link(link, kept),
        clock=clock,
        known=known,
    )
    for event, outcome in zip(kept, done.result.outcomes, strict=True):
        await connection.execute(
            SET_OUTCOME,
            {"outcome": outcome.value, "session_id": session_id, "event_id": event.event_id},
        )
    return done, done.wrote or bool(kept)


async def event_outcome(connection: SqlConnection, event_id: str) -> EventOutcome | None:
    """The stored outcome of ``event_id``, or None."""
    row = await connection.fetchone(SELECT_OUTCOME, {"event_id": event_id})
    return None if row is None else EventOutcome(row[0])


async def paid_by_event(connection: SqlConnection, payment_id: str) -> bool:
    """True when an applied (not pending) event said the link was paid."""
    row = await connection.fetchone(SELECT_PAID_BY_EVENT, {"payment_id": payment_id})
    return row is not None


def _decode(row: Sequence[object]) -> PaymentEvent:
    event_id, type_, link, status, amount, created, key, checkout, currency, livemode = row
    return PaymentEvent(
        event_id=str(event_id),
        type=str(type_),
        payment_id=None if link is None else str(link),
        payment_status=None if status is None else str(status),
        amount_total=None if amount is None else int(str(amount)),
        created=int(str(created)),
        idempotency_key=None if key is None else str(key),
        checkout_session=None if checkout is None else str(checkout),
        currency=None if currency is None else str(currency),
        livemode=None if livemode is None else bool(livemode),
    )
