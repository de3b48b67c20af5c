"""The tab's rules returning bare new states, for tests (each a ``*_change`` rule's ``.after``).

With the rules tests use from ``maya.state.transitions``: import it ``as transitions``.
"""

from __future__ import annotations

from maya.money import Cents
from maya.state.models import TIP_PERCENTAGES, TabState
from maya.state.transitions import (
    PaymentStart,
    Settlement,
    begin_payment_change,
    cancel_last_order,
    mark_payment_failed_change,
    new_tab,
    order_change,
    record_payment_link_change,
    reset_change,
    set_tip_change,
    settle_payment_change,
)

__all__ = [
    "begin_payment",
    "cancel_last_order",
    "mark_payment_failed",
    "new_tab",
    "order",
    "order_change",
    "record_payment_link",
    "reset",
    "set_tip",
    "settle_payment",
]


def order(
    state: TabState,
    *,
    name: str,
    unit_price_cents: Cents,
    quantity: int,
    modifiers: tuple[str, ...],
    prepaid: bool = True,
) -> TabState:
    """Put ``quantity`` x ``name`` on the tab, paid from the balance (see ``order_change``).

    Raises:
        StateError: ``INSUFFICIENT_FUNDS`` when the balance does not cover the order.
    """
    return order_change(
        state,
        name=name,
        unit_price_cents=unit_price_cents,
        quantity=quantity,
        modifiers=modifiers,
        prepaid=prepaid,
    ).after


def set_tip(
    state: TabState,
    percent: int | None,
    *,
    toggle: bool = True,
    allowed: tuple[int, ...] = TIP_PERCENTAGES,
) -> TabState:
    """Choose a tip (see ``set_tip_change``); the bare new state.

    Raises:
        StateError: ``INVALID_TIP_PERCENTAGE`` for anything but ``allowed`` or None.
    """
    return set_tip_change(state, percent, toggle=toggle, allowed=allowed).after


def begin_payment(state: TabState, *, now: int) -> tuple[TabState, PaymentStart]:
    """Snapshot what is due (see ``begin_payment_change``); the bare new state.

    Raises:
        StateError: ``NOTHING_TO_PAY`` when tab and tip are zero.
    """
    change, start = begin_payment_change(state, now=now)
    return change.after, start


def record_payment_link(
    state: TabState, *, idempotency_key: str, payment_id: str, url: str, is_simulated: bool
) -> TabState:
    """Attach a link to its payment record (see ``record_payment_link_change``).

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` or ``PAYMENT_SUPERSEDED``.
    """
    return record_payment_link_change(
        state,
        idempotency_key=idempotency_key,
        payment_id=payment_id,
        url=url,
        is_simulated=is_simulated,
    ).after


def settle_payment(
    state: TabState, *, payment_id: str, amount_paid_cents: Cents | None = None
) -> tuple[TabState, Settlement]:
    """Apply a paid link to the tab, exactly once (see ``settle_payment_change``).

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
    """
    change, settlement = settle_payment_change(
        state, payment_id=payment_id, amount_paid_cents=amount_paid_cents
    )
    return change.after, settlement


def mark_payment_failed(state: TabState, *, payment_id: str) -> TabState:
    """Record a declined payment (see ``mark_payment_failed_change``); the bare new state.

    Raises:
        StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
    """
    return mark_payment_failed_change(state, payment_id=payment_id).after


def reset(state: TabState, *, balance_cents: Cents) -> TabState:
    """Start the session over (see ``reset_change``); the bare new state."""
    return reset_change(state, balance_cents=balance_cents).after
