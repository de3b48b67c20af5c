"""How a tab reads to people: one line for `maya chat`, `maya demo` and `maya state show`,
and the money outcomes (shortfall, credit to refund, links open but not owed) as data."""

from __future__ import annotations

from typing import Any

from maya.money import format_amount
from maya.state.models import PaymentStatus, TabState

__all__ = ["STALE_LINK_NOTE", "outcome_view", "tab_line"]

STALE_LINK_NOTE = (
    "still open at Stripe but nothing is owed on it: do not pay it;"
    " anything paid there is credit to refund"
)
"""What a link open but not owed is, in words (``TabState.stale_links``)."""


def outcome_view(state: TabState) -> dict[str, Any]:
    """What money in and money owed came to, beside the tab; empty when all is square.

    ``shortfall``: what a short payment left owed (part of ``total_due``); ``credit``:
    money received beyond what was owed, to refund; ``open_links_not_owed``: links a
    settlement superseded that could not be deactivated yet (their URLs are not
    repeated: they must not be offered).
    """
    view: dict[str, Any] = {}
    if state.shortfall_cents:
        view.update(
            shortfall=format_amount(state.shortfall_cents, state.currency),
            shortfall_cents=state.shortfall_cents,
        )
    if state.credit_cents:
        view.update(
            credit=format_amount(state.credit_cents, state.currency),
            credit_cents=state.credit_cents,
            credit_to_refund=True,
        )
    stale = state.stale_links
    if stale:
        view["open_links_not_owed"] = [
            {
                "payment_id": record.payment_id,
                "amount": format_amount(record.snapshot.amount_cents, state.currency),
                "amount_cents": record.snapshot.amount_cents,
                "note": STALE_LINK_NOTE,
            }
            for record in stale
        ]
    return view


def tab_line(state: TabState) -> str:
    """``balance $969.00 | tab $31.00 | tip 15% ($4.65) | due $35.65 | payment pending``.

    A simulated payment says it moved no money; credit says when it is to be refunded; a
    shortfall says it is still due. The payment link is added on its own line while a
    payment is pending or declined; a link open but not owed gets a line naming it as such.
    """
    tip = (
        f"{state.tip_percent}% ({format_amount(state.tip_cents, state.currency)})"
        if state.tip_percent is not None
        else "none"
    )
    current = state.current_payment
    # A simulated payment moved no money; the one-line view must never hide that.
    simulated = current is not None and current.is_simulated
    link = (
        current.url
        if current is not None
        and current.url
        and current.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
        else None
    )
    line = (
        f"balance {format_amount(state.balance_cents, state.currency)}"
        f" | tab {format_amount(state.tab_cents, state.currency)}"
        f" | tip {tip} | due {format_amount(state.total_due_cents, state.currency)}"
        f" | payment {state.payment_status.value}"
    )
    if simulated and link is None:
        line += " (simulated test payment: no money moved)"
    if state.shortfall_cents:
        shortfall = format_amount(state.shortfall_cents, state.currency)
        line += f" | shortfall {shortfall} still due (paid short)"
    if state.credit_cents:
        line += f" | credit {format_amount(state.credit_cents, state.currency)}"
        if state.needs_reconciliation:
            line += " to refund (needs reconciliation)"
    if link is not None:
        line += f"\npay here{' (simulated)' if simulated else ''}: {link}"
    for record in state.stale_links:
        line += (
            f"\nlink {record.payment_id}"
            f" ({format_amount(record.snapshot.amount_cents, state.currency)})"
            f" {STALE_LINK_NOTE}"
        )
    return line
