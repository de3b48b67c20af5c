"""How the tab, the bill, payments and the menu look in a tool's result.

Every amount appears twice: formatted for people in the tab's currency (``"tab":
"€4.50"``) and as an integer in its minor unit for arithmetic (``"tab_cents": 450``).
A tab without a prepaid balance shows no balance.
"""

from __future__ import annotations

from typing import Any

from maya.money import Cents, format_amount
from maya.state.catalog import Catalog
from maya.state.models import OrderedItem, PaymentRecord, TabState
from maya.state.view import outcome_view

__all__ = [
    "amount",
    "balance_view",
    "bill_view",
    "catalog_view",
    "item_view",
    "payment_view",
]


def amount(key: str, cents: Cents, currency: str) -> dict[str, Any]:
    """``{key: "€1.00", key_cents: 100}`` for ``currency`` ``"eur"``."""
    return {key: format_amount(cents, currency), f"{key}_cents": cents}


def balance_view(state: TabState, *, prepaid: bool = True) -> dict[str, Any]:
    """Balance (when ``prepaid``), tab, tip and total due."""
    cur = state.currency
    return {
        **(amount("balance", state.balance_cents, cur) if prepaid else {}),
        **amount("tab", state.tab_cents, cur),
        "tip_percent": state.tip_percent,
        **amount("tip", state.tip_cents, cur),
        **amount("total_due", state.total_due_cents, cur),
    }


def item_view(item: OrderedItem, currency: str) -> dict[str, Any]:
    """One line of the bill."""
    return {
        "item": item.name,
        "quantity": item.quantity,
        "modifiers": list(item.modifiers),
        **amount("unit_price", item.unit_price_cents, currency),
        **amount("line", item.line_cents, currency),
    }


def payment_view(record: PaymentRecord | None, currency: str) -> dict[str, Any]:
    """The current payment: its status, link and amount (status ``none`` if there is none)."""
    if record is None:
        return {"status": "none"}
    view: dict[str, Any] = {
        "status": record.status.value,
        "payment_id": record.payment_id,
        "url": record.url,
        **amount("amount", record.snapshot.amount_cents, currency),
        "is_simulated": record.is_simulated,
    }
    if record.is_simulated:
        view["simulated_note"] = "simulated test payment: no real card is charged, no money moves"
    paid = record.amount_paid_cents
    if record.settled and paid is not None and paid > record.snapshot.amount_cents:
        view.update(amount("overpaid", paid - record.snapshot.amount_cents, currency))
    if record.settled and paid is not None and paid < record.snapshot.amount_cents:
        view.update(amount("paid_short", record.snapshot.amount_cents - paid, currency))
    return view


def bill_view(state: TabState, *, prepaid: bool = True) -> dict[str, Any]:
    """The itemised bill with totals and the payment's status."""
    cur = state.currency
    view: dict[str, Any] = {
        "items": [item_view(i, cur) for i in state.items],
        **balance_view(state, prepaid=prepaid),
    }
    # Shortfall still due, credit to refund, links open but not owed (never their URLs).
    view.update(outcome_view(state))
    if state.credit_cents:
        view["needs_reconciliation"] = state.needs_reconciliation
    view["payment"] = payment_view(state.current_payment, cur)
    return view


def catalog_view(catalog: Catalog) -> dict[str, Any]:
    """A plain catalog: its items with prices, by category when it has categories."""
    cur = catalog.currency
    return {
        "merchant": catalog.merchant,
        "currency": cur,
        "items": [
            {
                "item": item.name,
                **amount("price", item.price_cents, cur),
                **({"category": item.category} if item.category else {}),
            }
            for item in catalog.items
        ],
    }
