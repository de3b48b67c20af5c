"""The ``result`` of each plugin tool's ``ok`` response, as pydantic models.

An integrator reads a result typed: ``PaymentLinkResult.model_validate(response["result"])``.
The JSON a tool answers is unchanged (its handler builds it); each model describes it, its
``model_json_schema()`` is the tool's result schema, and the tests hold every result to
its model. Every amount comes twice: formatted in the tab's currency (``"amount":
"€8.50"``) and as an integer in its minor unit (``"amount_cents": 850``). Models are open
(extra keys allowed) so that an additive change never breaks a reader.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "RESULT_MODELS",
    "BillResult",
    "CancelResult",
    "CatalogEntry",
    "CatalogResult",
    "LineResult",
    "OrderItemResult",
    "PaymentCheckResult",
    "PaymentLinkResult",
    "PaymentView",
    "Provider",
]

Provider = Literal["stripe", "sandbox", "simulated"]
"""Where a payment lives (see ``maya.payments.Provider``)."""

_OPEN = ConfigDict(extra="allow", frozen=True)


class LineResult(BaseModel):
    """One line of the bill."""

    model_config = _OPEN

    item: str
    quantity: int
    unit_price: str
    unit_price_cents: int
    line: str
    line_cents: int


class OrderItemResult(BaseModel):
    """``order_item``: the line just ordered and the bill's new total (and the balance left,
    with a prepaid balance)."""

    model_config = _OPEN

    ordered: LineResult
    tab: str
    tab_cents: int
    balance: str | None = None
    balance_cents: int | None = None


class CancelResult(BaseModel):
    """``cancel_last_order``: the line taken off and the new totals."""

    model_config = _OPEN

    cancelled: LineResult
    tab: str
    tab_cents: int
    total_due: str
    total_due_cents: int


class CatalogEntry(BaseModel):
    """One item for sale."""

    model_config = _OPEN

    item: str
    price: str
    price_cents: int
    category: str | None = None


class CatalogResult(BaseModel):
    """``get_catalog``: the merchant, the currency and every item with its price."""

    model_config = _OPEN

    merchant: str
    currency: str
    items: list[CatalogEntry]


class PaymentView(BaseModel):
    """The bill's current payment (``status: none`` when there is none)."""

    model_config = _OPEN

    status: Literal["none", "pending", "completed", "failed"]
    payment_id: str | None = None
    url: str | None = None
    amount: str | None = None
    amount_cents: int | None = None
    is_simulated: bool | None = None


class BillResult(BaseModel):
    """``get_bill``: the lines, the totals and the payment."""

    model_config = _OPEN

    items: list[LineResult]
    tab: str
    tab_cents: int
    tip_percent: int | None
    tip: str
    tip_cents: int
    total_due: str
    total_due_cents: int
    payment: PaymentView
    balance: str | None = None
    balance_cents: int | None = None


class PaymentLinkResult(BaseModel):
    """``create_stripe_payment``: the link for exactly what the stored bill owes."""

    model_config = _OPEN

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
    provider: Provider
    reused: bool
    message: str
    simulated_note: str | None = None
    replaced_payment_id: str | None = None
    replaced_link_deactivated: bool | None = None


class PaymentCheckResult(BaseModel):
    """``check_payment_status``: what the provider says, and whether it was applied.

    ``payment_status`` ``succeeded`` is real money; ``simulated`` never is.
    """

    model_config = _OPEN

    payment_id: str
    payment_status: Literal["pending", "succeeded", "failed", "timeout", "simulated"]
    is_simulated: bool
    provider: Provider
    message: str
    applied: bool | None = None
    amount_paid: str | None = None
    amount_paid_cents: int | None = None
    tab: str | None = None
    tab_cents: int | None = None
    balance: str | None = None
    balance_cents: int | None = None
    decline_reason: str | None = None
    url: str | None = None
    needs_reconciliation: bool | None = None
    simulated_note: str | None = None


RESULT_MODELS: dict[str, type[BaseModel]] = {
    "get_catalog": CatalogResult,
    "order_item": OrderItemResult,
    "cancel_last_order": CancelResult,
    "get_bill": BillResult,
    "create_stripe_payment": PaymentLinkResult,
    "check_payment_status": PaymentCheckResult,
}
"""The result model of each tool of ``CATALOG_TOOLS`` (and so of ``PAYMENT_TOOLS``)."""
