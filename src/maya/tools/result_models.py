"""The ``result`` of each tool's ``ok`` response, and the error response, as pydantic models.

One set: ``ToolSpec.result`` is the type an integrator reads and the source of the tool's
MCP ``outputSchema``. A key present only sometimes is ``None`` when absent; unknown keys
are ignored, so an additive change never breaks a reader.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from maya.codes import ErrorCode

__all__ = [
    "BalanceResult",
    "BillResult",
    "CancelResult",
    "CatalogEntry",
    "CatalogResult",
    "ErrorResponse",
    "FieldProblem",
    "LineResult",
    "OpenLink",
    "OrderItemResult",
    "PaymentCheckResult",
    "PaymentLinkResult",
    "PaymentView",
    "Provider",
    "TipResult",
    "ToolResultModel",
]

Provider = Literal["stripe", "sandbox", "simulated"]
"""Where a payment lives (see ``maya.payments.Provider``)."""


class ToolResultModel(BaseModel):
    """Base of the result models: frozen; keys it does not know are ignored (and so left
    out of ``model_dump``, which is how the tests find a key no model declares)."""

    model_config = ConfigDict(frozen=True)


class LineResult(ToolResultModel):
    """One line of the bill (``modifiers`` only where the catalog has any)."""

    item: str
    quantity: int
    modifiers: list[str] | None = None
    unit_price: str
    unit_price_cents: int
    line: str
    line_cents: int


class OrderItemResult(ToolResultModel):
    """``order_item``: the line just ordered and the bill's new total (and the balance left,
    with a prepaid balance)."""

    ordered: LineResult
    balance: str | None = None
    balance_cents: int | None = None
    tab: str
    tab_cents: int


class CancelResult(ToolResultModel):
    """``cancel_last_order``: the line taken off and the new totals (with a prepaid
    balance, the refund to it)."""

    cancelled: LineResult
    refund: str | None = None
    refund_cents: int | None = None
    balance: str | None = None
    balance_cents: int | None = None
    tab: str
    tab_cents: int
    total_due: str
    total_due_cents: int


class CatalogEntry(ToolResultModel):
    """One item for sale."""

    item: str
    price: str
    price_cents: int
    category: str | None = None


class CatalogResult(ToolResultModel):
    """``get_catalog``: the merchant, the currency and every item with its price."""

    merchant: str
    currency: str
    items: list[CatalogEntry]


class _Totals(ToolResultModel):
    tab: str
    tab_cents: int
    tip_percent: int | None
    tip: str
    tip_cents: int
    total_due: str
    total_due_cents: int


class BalanceResult(_Totals):
    """``get_balance``: tab, tip and total due (and the balance, with a prepaid one)."""

    balance: str | None = None
    balance_cents: int | None = None


class TipResult(_Totals):
    """``set_tip`` and ``remove_tip``."""

    removed: bool


class PaymentView(ToolResultModel):
    """The bill's current payment (only ``status: none`` when there is none)."""

    status: Literal["none", "pending", "completed", "failed"]
    payment_id: str | None = None
    url: str | None = None
    amount: str | None = None
    amount_cents: int | None = None
    is_simulated: bool | None = None
    simulated_note: str | None = None
    overpaid: str | None = None
    overpaid_cents: int | None = None
    paid_short: str | None = None
    paid_short_cents: int | None = None


class OpenLink(ToolResultModel):
    """A link a settlement left open but not owed: what it collects is credit to refund."""

    payment_id: str
    note: str
    amount: str
    amount_cents: int


class _Outcome(ToolResultModel):
    credit: str | None = None
    credit_cents: int | None = None
    shortfall: str | None = None
    shortfall_cents: int | None = None
    needs_reconciliation: bool | None = None
    credit_to_refund: bool | None = None
    open_links_not_owed: list[OpenLink] | None = None


class BillResult(BalanceResult, _Outcome):
    """``get_bill``: the lines, the totals, what a settlement left and the payment."""

    items: list[LineResult]
    payment: PaymentView


class PaymentLinkResult(ToolResultModel):
    """``create_stripe_payment``: the link for exactly what the stored bill owes."""

    url: str
    payment_id: str
    amount: str
    amount_cents: int
    tab: str
    tab_cents: int
    tip_percent: int | None
    tip: str
    tip_cents: int
    is_simulated: bool
    provider: Provider | None = None
    reused: bool
    simulated_note: str | None = None
    message: str
    replaced_payment_id: str | None = None
    replaced_link_deactivated: bool | None = None
    replaced_simulated_payment_id: str | None = None


class PaymentCheckResult(_Outcome):
    """``check_payment_status``: what the provider says, and whether it was applied.

    ``payment_status`` ``succeeded`` is real money; ``simulated`` never is.
    """

    payment_id: str
    payment_status: Literal["pending", "succeeded", "failed", "timeout", "simulated"]
    applied: bool | None = None
    confirmed_by: Literal["stripe_webhook"] | None = None
    is_simulated: bool
    provider: Provider | None = None
    simulated_note: str | None = None
    amount_paid: str | None = None
    amount_paid_cents: int | None = None
    tab: str | None = None
    tab_cents: int | None = None
    balance: str | None = None
    balance_cents: int | None = None
    link_closed: bool | None = None
    overpaid: str | None = None
    overpaid_cents: int | None = None
    total_due: str | None = None
    total_due_cents: int | None = None
    decline_reason: str | None = None
    url: str | None = None
    replaced_simulated_payment_id: str | None = None
    message: str


class FieldProblem(ToolResultModel):
    """One argument that does not fit the tool."""

    field: str
    problem: str


class ErrorResponse(BaseModel):
    """``{"status": "error", ...}``: why a call was refused; details vary by code."""

    # Each code adds its own details (the tool asked for, the payment id...).
    model_config = ConfigDict(frozen=True, extra="allow")

    status: Literal["error"]
    error: ErrorCode
    message: str
    retryable: bool
    fields: list[FieldProblem] | None = None
