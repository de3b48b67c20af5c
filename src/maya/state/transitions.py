"""The tab's rules as pure functions: ``TabState`` in, a ``Change`` (and a result) out.

Every store runs these same functions in its own atomic step. A refusal raises
``StateError`` before anything is built; nothing to change returns the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from maya.codes import ErrorCode
from maya.money import Cents, charge_problem, format_amount
from maya.state.errors import StateError
from maya.state.models import (
    OrderedItem,
    PaymentRecord,
    PaymentSnapshot,
    PaymentStatus,
    TabState,
    TipPercent,
)
from maya.state.store import Change

__all__ = [
    "PaymentStart",
    "Settlement",
    "begin_payment_change",
    "cancel_last_order",
    "close_link_change",
    "end_link_write_change",
    "mark_link_write_change",
    "mark_payment_failed_change",
    "new_tab",
    "order_change",
    "record_payment_link_change",
    "reset_change",
    "set_tip_change",
    "settle_payment_change",
]


def _bump(state: TabState, **changes: object) -> TabState:
    return state.model_copy(update={**changes, "version": state.version + 1})


def new_tab(session_id: str, balance_cents: Cents, currency: str = "usd") -> TabState:
    """A fresh session in ``currency``: the starting balance, nothing on the tab."""
    return TabState(session_id=session_id, balance_cents=balance_cents, currency=currency)


def order_change(
    state: TabState,
    *,
    name: str,
    unit_price_cents: Cents,
    quantity: int,
    modifiers: tuple[str, ...],
    prepaid: bool = True,
) -> Change:
    """Put ``quantity`` x ``name`` on the tab: one new item. With a ``prepaid`` balance
    the balance pays for it; without one the balance is left alone.

    Raises:
        StateError: ``INSUFFICIENT_FUNDS`` when the prepaid balance does not cover it;
            ``BILL_NOT_PAYABLE`` when the tab would be more than one card payment can take
            or off its currency's steps (``maya.money.charge_problem``).
    """
    cost = unit_price_cents * quantity
    if prepaid and cost > state.balance_cents:
        raise StateError(
            ErrorCode.INSUFFICIENT_FUNDS,
            f"{quantity} x {name} costs {format_amount(cost, state.currency)} but the balance is "
            f"{format_amount(state.balance_cents, state.currency)}",
            item=name,
            quantity=quantity,
            unit_price=format_amount(unit_price_cents, state.currency),
            price=format_amount(cost, state.currency),
            balance=format_amount(state.balance_cents, state.currency),
            shortfall=format_amount(cost - state.balance_cents, state.currency),
        )
    tab = state.tab_cents + cost
    unpayable = charge_problem(tab, state.currency)
    if unpayable is not None:
        raise StateError(
            ErrorCode.BILL_NOT_PAYABLE,
            f"{quantity} x {name} would make the tab {format_amount(tab, state.currency)},"
            " which no card payment could charge",
            item=name,
            quantity=quantity,
            tab=format_amount(tab, state.currency),
            **unpayable,
        )
    item = OrderedItem(
        seq=state.next_item_seq,
        name=name,
        unit_price_cents=unit_price_cents,
        quantity=quantity,
        modifiers=modifiers,
    )
    after = _bump(
        state,
        balance_cents=state.balance_cents - cost if prepaid else state.balance_cents,
        tab_cents=state.tab_cents + cost,
        # Concatenation copies the tuple at half the cost of unpacking it into a new one.
        items=state.items + (item,),  # noqa: RUF005
        next_item_seq=state.next_item_seq + 1,
    )
    return Change(state, after, added_items=(item,))


def cancel_last_order(state: TabState, *, prepaid: bool = True) -> tuple[TabState, OrderedItem]:
    """Take the last ordered line off the tab and (``prepaid``) refund it to the balance.

    The tip, a percentage of the tab, follows the tab down.

    Raises:
        StateError: ``NOTHING_TO_CANCEL`` when no item is on the tab; ``PAYMENT_PENDING``
            when an outstanding payment link's snapshot includes the item (the customer
            may be paying for it right now). Nothing changes.
    """
    if not state.items:
        raise StateError(ErrorCode.NOTHING_TO_CANCEL, "there is no order on the tab to cancel")
    last = state.items[-1]
    for record in state.payments:
        if _is_outstanding(record) and record.snapshot.last_item_seq >= last.seq:
            raise StateError(
                ErrorCode.PAYMENT_PENDING,
                f"{last.name} is part of a payment link that may be paid at any moment",
                item=last.name,
                amount=format_amount(record.snapshot.amount_cents, state.currency),
                payment_id=(record.payment_id or "")[:80],
            )
    return (
        _bump(
            state,
            balance_cents=state.balance_cents + (last.line_cents if prepaid else 0),
            tab_cents=state.tab_cents - last.line_cents,
            items=state.items[:-1],
        ),
        last,
    )


def set_tip_change(
    state: TabState,
    percent: int | None,
    *,
    toggle: bool = True,
    allowed: tuple[int, ...],
) -> Change:
    """Choose a tip from ``allowed`` (for example 10, 15, 20); the same one again removes it.

    ``percent=None`` removes the tip. With ``toggle=False`` the same percentage is kept.

    Raises:
        StateError: ``INVALID_TIP_PERCENTAGE`` for anything but ``allowed`` or None.
    """
    # type() is not int: JSON's 15.0 or a Decimal(15) compare equal to 15 but must not be stored.
    if percent is not None and (type(percent) is not int or percent not in allowed):
        choices = ", ".join(str(p) for p in allowed) or "no"
        raise StateError(
            ErrorCode.INVALID_TIP_PERCENTAGE,
            f"a tip is {choices} percent, not {percent!r}",
            percent=percent if isinstance(percent, int) else str(percent)[:20],
            allowed=list(allowed),
        )
    chosen: TipPercent | None = percent  # type: ignore[assignment]
    if toggle and chosen is not None and chosen == state.tip_percent:
        chosen = None
    if chosen == state.tip_percent:
        return Change(state, state)
    return Change(state, _bump(state, tip_percent=chosen))


@dataclass(frozen=True, slots=True)
class PaymentStart:
    """What ``begin_payment`` decided.

    Attributes:
        payment: the record to make (or that already has) a link for.
        reused: True when the tab is unchanged since an outstanding link was made: use
            ``payment.payment_id`` / ``payment.url`` as they are if set.
        superseded: the outstanding record this one replaces; its link must be
            deactivated.
    """

    payment: PaymentRecord
    reused: bool
    superseded: PaymentRecord | None


def _is_outstanding(record: PaymentRecord) -> bool:
    return not record.superseded and record.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)


def begin_payment_change(state: TabState, *, now: int) -> tuple[Change, PaymentStart]:
    """Snapshot what is due and decide which payment record the link is for.

    Raises:
        StateError: ``NOTHING_TO_PAY`` when tab and tip are zero; ``BILL_NOT_PAYABLE`` when
            the total is more than one card payment can take (a tip on a tab near the
            most), or off its currency's steps (a tab from before the steps were kept).
    """
    if state.total_due_cents <= 0:
        raise StateError(
            ErrorCode.NOTHING_TO_PAY,
            "there is nothing on the tab to pay",
            tab=format_amount(state.tab_cents, state.currency),
        )
    total = state.total_due_cents
    unpayable = charge_problem(total, state.currency)
    if unpayable is not None:
        raise StateError(
            ErrorCode.BILL_NOT_PAYABLE,
            f"a bill of {format_amount(total, state.currency)} cannot be charged by card",
            total=format_amount(total, state.currency),
            **unpayable,
        )
    last_seq = state.next_item_seq - 1
    current = state.current_payment
    if current is not None and _is_outstanding(current) and _matches(current.snapshot, state):
        if current.status is PaymentStatus.PENDING:
            return Change(state, state), PaymentStart(payment=current, reused=True, superseded=None)
        # A declined card leaves the link usable: ask for another card on the same link.
        again = current.model_copy(update={"status": PaymentStatus.PENDING})
        at = _index(state, current)
        new_state = _bump(state, payments=_replaced(state, at, again))
        return Change(state, new_state, payments=(at,)), PaymentStart(
            payment=again, reused=True, superseded=None
        )
    snapshot = PaymentSnapshot(
        tab_cents=state.tab_cents,
        tip_percent=state.tip_percent,
        tip_cents=state.tip_cents,
        last_item_seq=last_seq,
        version=state.version,
        created_at=now,
        shortfall_cents=state.shortfall_cents,
    )
    # The design's key is {session}_{unix_ts}; two snapshots of one session within a
    # second would collide, so the version (unique per snapshot) is appended.
    record = PaymentRecord(
        idempotency_key=f"{state.session_id}_{now}_v{state.version}", snapshot=snapshot
    )
    superseded: PaymentRecord | None = None
    history = list(state.payments)
    touched: tuple[int, ...] = ()
    if current is not None and _is_outstanding(current):
        superseded = current.model_copy(update={"superseded": True})
        at = _index(state, current)
        history[at] = superseded
        touched = (at,)
    history.append(record)
    new_state = _bump(state, payments=tuple(history))
    change = Change(state, new_state, payments=(*touched, len(history) - 1))
    return change, PaymentStart(payment=record, reused=False, superseded=superseded)


def _index(state: TabState, record: PaymentRecord) -> int:
    # By identity: the record is one of the state's own, found by a lookup just before.
    return next(i for i, r in enumerate(state.payments) if r is record)


def _replaced(state: TabState, at: int, record: PaymentRecord) -> tuple[PaymentRecord, ...]:
    return (*state.payments[:at], record, *state.payments[at + 1 :])


def _find_by_key(state: TabState, idempotency_key: str) -> PaymentRecord:
    for record in state.payments:
        if record.idempotency_key == idempotency_key:
            return record
    raise StateError(
        ErrorCode.PAYMENT_NOT_FOUND,
        "no payment was started with that key",
        idempotency_key=idempotency_key[:80],
    )


def record_payment_link_change(
    state: TabState, *, idempotency_key: str, payment_id: str, url: str, is_simulated: bool
) -> Change:
    """Attach the link made for a snapshot to its payment record.

    Recording the same link twice changes nothing. A real link replaces a simulated one
    on an unpaid record (the simulated link was a stopgap while Stripe was unreachable).

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` for an unknown key; ``PAYMENT_SUPERSEDED`` when
            the tab changed while the link was being made (deactivate the link), or the
            record already has a different link.
    """
    record = _find_by_key(state, idempotency_key)
    if record.payment_id == payment_id and record.url == url:
        return Change(state, state)
    # A simulated link is a stopgap: a real one made later for the same snapshot replaces it.
    replaces_simulated = (
        record.is_simulated
        and not is_simulated
        and not record.superseded
        and record.status is PaymentStatus.PENDING
    )
    if record.superseded or (record.payment_id is not None and not replaces_simulated):
        raise StateError(
            ErrorCode.PAYMENT_SUPERSEDED,
            "the tab changed while the payment link was being made",
            idempotency_key=idempotency_key[:80],
            payment_id=payment_id[:80],
        )
    if state.find_payment(payment_id) is not None:
        raise StateError(
            ErrorCode.PAYMENT_SUPERSEDED,
            "that payment link already belongs to another payment of this tab",
            payment_id=payment_id[:80],
        )
    updated = record.model_copy(
        update={"payment_id": payment_id, "url": url, "is_simulated": is_simulated}
    )
    at = _index(state, record)
    return Change(state, _bump(state, payments=_replaced(state, at, updated)), payments=(at,))


def mark_link_write_change(
    state: TabState,
    *,
    idempotency_key: str,
    expected: float | None,
    until: float,
    now: float,
    own: bool = False,
) -> tuple[Change, bool]:
    """Mark a payment record "link write sent", unless someone else's write may be in flight.

    A compare-and-set: the mark is set to ``until`` only while it still is ``expected``
    (what the caller last read, or its own earlier mark when ``own``) and no other
    writer's mark is still running (``expected > now`` without ``own``). Committed before
    the write is sent, it outlives the process that sent it.

    Returns:
        The change and whether the mark is now the caller's (False: another process marked
        it, or the record already has a real link; nothing changed).

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` for an unknown key; ``PAYMENT_SUPERSEDED`` when the
            tab changed meanwhile.
    """
    record = _find_by_key(state, idempotency_key)
    if record.superseded:
        raise StateError(
            ErrorCode.PAYMENT_SUPERSEDED,
            "the tab changed while the payment link was being made",
            idempotency_key=idempotency_key[:80],
        )
    foreign_running = expected is not None and expected > now and not own
    if record.has_real_link or record.link_write_until != expected or foreign_running:
        return Change(state, state), False
    updated = record.model_copy(update={"link_write_until": until})
    at = _index(state, record)
    return Change(state, _bump(state, payments=_replaced(state, at, updated)), payments=(at,)), True


def end_link_write_change(
    state: TabState, *, idempotency_key: str, mark: float, now: float, made_nothing: bool
) -> Change:
    """End the caller's link write ``mark``: nothing is in flight any more.

    The mark stays (in the past: look before writing again) unless the write is known to
    have made nothing (``made_nothing``), which clears it. A mark that is no longer the
    caller's is left alone.
    """
    record = next((r for r in state.payments if r.idempotency_key == idempotency_key), None)
    if record is None or record.link_write_until != mark:
        return Change(state, state)
    ended = None if made_nothing else min(mark, now)
    if ended == mark:
        return Change(state, state)
    updated = record.model_copy(update={"link_write_until": ended})
    at = _index(state, record)
    return Change(state, _bump(state, payments=_replaced(state, at, updated)), payments=(at,))


def _find_by_id(state: TabState, payment_id: str) -> PaymentRecord:
    record = state.find_payment(payment_id)
    if record is None:
        raise StateError(
            ErrorCode.PAYMENT_NOT_FOUND,
            "that payment does not belong to this tab",
            payment_id=payment_id[:80],
        )
    return record


@dataclass(frozen=True, slots=True)
class Settlement:
    """What ``settle_payment`` did.

    Attributes:
        applied: False when the payment had already been settled (nothing changed).
        applied_cents: how much of the tab the payment cleared.
        credit_cents: how much it paid beyond what was still owed (kept as credit).
        shortfall_cents: how much less than what it cleared it paid (still owed).
        superseded: the newer outstanding payment this one made stale (its link must be
            deactivated; until it is, it is open but not owed).
    """

    applied: bool
    applied_cents: Cents
    credit_cents: Cents
    shortfall_cents: Cents = 0
    superseded: PaymentRecord | None = None


def _matches(snap: PaymentSnapshot, state: TabState) -> bool:
    """True when a snapshot still charges exactly what ``state`` owes, for the same items."""
    return (
        snap.tab_cents == state.tab_cents
        and snap.tip_cents == state.tip_cents
        and snap.shortfall_cents == state.shortfall_cents
        and snap.last_item_seq == state.next_item_seq - 1
    )


def settle_payment_change(
    state: TabState, *, payment_id: str, amount_paid_cents: Cents | None = None
) -> tuple[Change, Settlement]:
    """Apply a paid link to the tab, exactly once: money in = money recorded.

    What the link's snapshot covered and is still owed (its items still on the tab,
    their share of the tip, the shortfall it charged) is cleared: those items leave
    the tab (orders placed after the snapshot stay) and the tip is reset. The money
    paid (``amount_paid_cents``; the snapshot's amount when unknown) is set against it:
    beyond it is credit to refund (a superseded link paid late, paid twice), short
    of it is a shortfall left owed on the tab. Both are flagged ``needs_reconciliation``.

    A newer outstanding payment that no longer charges what is owed is superseded (its
    link is then open but not owed until deactivated), and the paid one becomes the
    tab's current payment again when it cleared something.

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
    """
    record = _find_by_id(state, payment_id)
    if record.settled:
        return Change(state, state), Settlement(applied=False, applied_cents=0, credit_cents=0)
    snap = record.snapshot
    covered = [i for i in state.items if i.seq <= snap.last_item_seq]
    applied = sum(i.line_cents for i in covered)
    excess_tab = snap.tab_cents - applied
    # The tip paid on items no longer owed was paid twice too: credit it in proportion.
    excess_tip = 0 if snap.tab_cents == 0 else _share(snap.tip_cents, excess_tab, snap.tab_cents)
    shortfall_cleared = min(snap.shortfall_cents, state.shortfall_cents)
    owed = applied + (snap.tip_cents - excess_tip) + shortfall_cleared
    paid = snap.amount_cents if amount_paid_cents is None else amount_paid_cents
    credit, short = max(0, paid - owed), max(0, owed - paid)
    settled = record.model_copy(
        update={"status": PaymentStatus.COMPLETED, "amount_paid_cents": amount_paid_cents}
    )
    at = _index(state, record)
    history = list(state.payments)
    history[at] = settled
    after = state.model_copy(
        update={
            "tab_cents": state.tab_cents - applied,
            "tip_percent": None,
            "shortfall_cents": state.shortfall_cents - shortfall_cleared + short,
            "items": tuple(i for i in state.items if i.seq > snap.last_item_seq),
        }
    )
    touched = [at]
    stale: PaymentRecord | None = None
    for i, other in enumerate(history):
        if i != at and _is_outstanding(other) and not _matches(other.snapshot, after):
            stale = history[i] = other.model_copy(update={"superseded": True})
            touched.append(i)
    if record.superseded and owed > 0 and all(r.superseded for r in history[at + 1 :]):
        # The late payment is the one that counted: it is what "has it cleared?" reads.
        history[at] = settled.model_copy(update={"superseded": False})
    paid_differs = amount_paid_cents is not None and amount_paid_cents != snap.amount_cents
    new_state = _bump(
        after,
        credit_cents=state.credit_cents + credit,
        needs_reconciliation=(
            state.needs_reconciliation
            or credit > 0
            or short > 0
            or paid_differs
            or record.superseded
        ),
        payments=tuple(history),
    )
    change = Change(
        state, new_state, removed_through_seq=snap.last_item_seq, payments=tuple(sorted(touched))
    )
    return change, Settlement(
        applied=True,
        applied_cents=applied,
        credit_cents=credit,
        shortfall_cents=short,
        superseded=stale,
    )


def close_link_change(state: TabState, *, payment_id: str) -> Change:
    """Record that a payment's link was deactivated at Stripe; closing it again changes
    nothing.

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
    """
    record = _find_by_id(state, payment_id)
    if record.link_closed:
        return Change(state, state)
    closed = record.model_copy(update={"link_closed": True})
    at = _index(state, record)
    return Change(state, _bump(state, payments=_replaced(state, at, closed)), payments=(at,))


def _share(amount: Cents, part: Cents, whole: Cents) -> Cents:
    exact = Decimal(amount) * Decimal(part) / Decimal(whole)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def mark_payment_failed_change(state: TabState, *, payment_id: str) -> Change:
    """Record that a payment was declined. No money moves; a settled payment stays settled.

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
    """
    record = _find_by_id(state, payment_id)
    if record.settled or record.status is PaymentStatus.FAILED:
        return Change(state, state)
    failed = record.model_copy(update={"status": PaymentStatus.FAILED})
    at = _index(state, record)
    return Change(state, _bump(state, payments=_replaced(state, at, failed)), payments=(at,))


def reset_change(state: TabState, *, balance_cents: Cents) -> Change:
    """Start the session over: starting balance, empty tab, no tip, no shortfall owed.

    Payment history is kept (outstanding links become superseded) so that a link paid
    after the reset is still recognised and applied once, as credit. Credit and the
    reconciliation flag survive too: they record real money owed back to the customer.
    """
    payments = tuple(
        r.model_copy(update={"superseded": True}) if _is_outstanding(r) else r
        for r in state.payments
    )
    after = _bump(
        state,
        balance_cents=balance_cents,
        tab_cents=0,
        items=(),
        tip_percent=None,
        shortfall_cents=0,
        payments=payments,
    )
    # Items are kept in seq order, so the last one's seq bounds them all.
    last_seq = max(state.next_item_seq - 1, state.items[-1].seq if state.items else 0)
    touched = tuple(i for i, r in enumerate(state.payments) if payments[i] is not r)
    return Change(state, after, removed_through_seq=last_seq, payments=touched)


def record_credit(
    state: TabState, *, payment_id: str, amount_received_cents: Cents
) -> tuple[TabState, Cents]:
    """Record money a settled link received beyond what was applied, as credit.

    A link paid again after it was settled (or paid twice before anyone checked) must
    not be dropped: what it received beyond what was already recorded becomes credit,
    flagged ``needs_reconciliation`` (a refund is owed). The record's
    ``amount_paid_cents`` becomes the total the link received, so reporting the same
    total again changes nothing.

    Args:
        state: The tab.
        payment_id: The settled link.
        amount_received_cents: Everything the link has received so far.

    Returns:
        The new state and the cents newly credited (0 when nothing was new).

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
    """
    record = _find_by_id(state, payment_id)
    if not record.settled:
        return state, 0
    already = (
        record.amount_paid_cents
        if record.amount_paid_cents is not None
        else record.snapshot.amount_cents
    )
    extra = amount_received_cents - already
    if extra <= 0:
        return state, 0
    updated = record.model_copy(update={"amount_paid_cents": amount_received_cents})
    new_state = _bump(
        state,
        credit_cents=state.credit_cents + extra,
        needs_reconciliation=True,
        payments=tuple(updated if r is record else r for r in state.payments),
    )
    return new_state, extra
