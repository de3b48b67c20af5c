"""One line about the tab for the terminal: balance, tab, tip, what is due, the link."""

from __future__ import annotations

from maya.money import format_cents
from maya.state.models import PaymentStatus, TabState

__all__ = ["tab_line"]


def tab_line(state: TabState) -> str:
    """``balance $969.00 | tab $31.00 | tip 15% ($4.65) | due $35.65 | payment pending``.

    The payment link is added on its own line while a payment is pending or declined.
    """
    tip = (
        f"{state.tip_percent}% ({format_cents(state.tip_cents)})"
        if state.tip_percent is not None
        else "none"
    )
    line = (
        f"balance {format_cents(state.balance_cents)} | tab {format_cents(state.tab_cents)}"
        f" | tip {tip} | due {format_cents(state.total_due_cents)}"
        f" | payment {state.payment_status.value}"
    )
    if state.credit_cents:
        line += f" | credit {format_cents(state.credit_cents)}"
    current = state.current_payment
    if (
        current is not None
        and current.url
        and current.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)
    ):
        simulated = " (simulated)" if current.is_simulated else ""
        line += f"\npay here{simulated}: {current.url}"
    return line
