"""How a tab reads to people: the one line ``maya state show`` prints."""

from __future__ import annotations

from maya.money import format_cents
from maya.state.models import TabState

__all__ = ["describe_tab"]


def describe_tab(state: TabState) -> str:
    """One line for people: balance, tab, tip, total and payment status."""
    tip = f"{state.tip_percent}% = {format_cents(state.tip_cents)}" if state.tip_percent else "none"
    current = state.current_payment
    # A simulated payment moved no money; the one-line view must never hide that.
    simulated = (
        " (simulated test payment: no money moved)"
        if current is not None and current.is_simulated
        else ""
    )
    credit = (
        f" | credit {format_cents(state.credit_cents)}"
        + (" to refund (needs reconciliation)" if state.needs_reconciliation else "")
        if state.credit_cents
        else ""
    )
    return (
        f"balance {format_cents(state.balance_cents)} | tab {format_cents(state.tab_cents)}"
        f" | tip {tip} | due {format_cents(state.total_due_cents)}"
        f" | payment {state.payment_status.value}{simulated}{credit}"
    )
