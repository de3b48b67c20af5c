"""How a tab reads to people: one line for `maya chat`, `maya demo` and `maya state show`."""

from __future__ import annotations

from maya.money import format_amount
from maya.state.models import PaymentStatus, TabState

__all__ = ["tab_line"]


def tab_line(state: TabState) -> str:
    """``balance $969.00 | tab $31.00 | tip 15% ($4.65) | due $35.65 | payment pending``.

    A simulated payment says it moved no money; credit says when it is to be refunded. The
    payment link is added on its own line while a payment is pending or declined.
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
    if state.credit_cents:
        line += f" | credit {format_amount(state.credit_cents, state.currency)}"
        if state.needs_reconciliation:
            line += " to refund (needs reconciliation)"
    if link is not None:
        line += f"\npay here{' (simulated)' if simulated else ''}: {link}"
    return line
