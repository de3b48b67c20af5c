"""The tools' responses as pydantic models: the source of every MCP ``outputSchema``.

They describe the dicts ``maya.tools`` builds today, key for key: a key that a result
carries only sometimes (a credit, a simulated-payment note) is ``MISSING`` when absent,
never ``null``; a key that is always there but may be empty (``tip_percent``) is
``X | None``. ``model_validate(result).model_dump(mode="json")`` gives the result back
unchanged, which the tests check on every path.
"""

from __future__ import annotations

from typing import Literal

from pydantic import MISSING, BaseModel, ConfigDict

from maya.codes import ErrorCode

__all__ = [
    "RESULT_MODELS",
    "BalanceResult",
    "BillResult",
    "CancelResult",
    "ErrorResponse",
    "FieldProblem",
    "ItemLine",
    "LinkResult",
    "MenuEntry",
    "MenuResult",
    "OpenLink",
    "OrderResult",
    "PaymentView",
    "StatusResult",
    "TipResult",
]

TipPercent = Literal[10, 15, 20]
Provider = Literal["stripe", "sandbox", "simulated"]


class _Result(BaseModel):
    # Keys the model does not know are dropped, so the round-trip test fails on them.
    model_config = ConfigDict(frozen=True)


class ItemLine(_Result):
    """One line of the bill."""

    item: str
    quantity: int
    modifiers: list[str]
    unit_price: str
    unit_price_cents: int
    line: str
    line_cents: int


class MenuEntry(_Result):
    """A drink on the menu, its price and the modifiers it takes, by group."""

    item: str
    price: str
    price_cents: int
    liquor_choice: bool | MISSING = MISSING
    modifiers: dict[str, list[str]]


class MenuResult(_Result):
    """``get_menu``."""

    categories: dict[str, list[MenuEntry]]
    liquors: list[str]
    default_liquor: str | None
    styles: list[str]
    modifiers_are_free: bool
    one_of: list[str]


class OrderResult(_Result):
    """``order_drink``."""

    ordered: ItemLine
    balance: str | MISSING = MISSING
    balance_cents: int | MISSING = MISSING
    tab: str
    tab_cents: int


class CancelResult(_Result):
    """``cancel_last_order``."""

    cancelled: ItemLine
    refund: str
    refund_cents: int
    balance: str | MISSING = MISSING
    balance_cents: int | MISSING = MISSING
    tab: str
    tab_cents: int
    total_due: str
    total_due_cents: int


class BalanceResult(_Result):
    """``get_balance``."""

    balance: str | MISSING = MISSING
    balance_cents: int | MISSING = MISSING
    tab: str
    tab_cents: int
    tip_percent: TipPercent | None
    tip: str
    tip_cents: int
    total_due: str
    total_due_cents: int


class TipResult(_Result):
    """``set_tip`` and ``remove_tip``."""

    removed: bool
    tip_percent: TipPercent | None
    tip: str
    tip_cents: int
    tab: str
    tab_cents: int
    total_due: str
    total_due_cents: int


class PaymentView(_Result):
    """The tab's current payment (only ``status: none`` when there is none)."""

    status: Literal["none", "pending", "completed", "failed"]
    payment_id: str | MISSING | None = MISSING
    url: str | MISSING | None = MISSING
    amount: str | MISSING = MISSING
    amount_cents: int | MISSING = MISSING
    is_simulated: bool | MISSING = MISSING
    simulated_note: str | MISSING = MISSING
    overpaid: str | MISSING = MISSING
    overpaid_cents: int | MISSING = MISSING
    paid_short: str | MISSING = MISSING
    paid_short_cents: int | MISSING = MISSING


class OpenLink(_Result):
    """A link a settlement left open but not owed: what it collects is credit to refund."""

    payment_id: str
    note: str
    amount: str
    amount_cents: int


class BillResult(BalanceResult):
    """``get_bill``."""

    items: list[ItemLine]
    credit: str | MISSING = MISSING
    credit_cents: int | MISSING = MISSING
    shortfall: str | MISSING = MISSING
    shortfall_cents: int | MISSING = MISSING
    needs_reconciliation: bool | MISSING = MISSING
    credit_to_refund: bool | MISSING = MISSING
    open_links_not_owed: list[OpenLink] | MISSING = MISSING
    payment: PaymentView


class LinkResult(_Result):
    """``create_stripe_payment``."""

    url: str
    payment_id: str
    amount: str
    amount_cents: int
    tab: str
    tab_cents: int
    tip_percent: TipPercent | None
    tip: str
    tip_cents: int
    is_simulated: bool
    provider: Provider | MISSING = MISSING
    reused: bool
    simulated_note: str | MISSING = MISSING
    message: str
    replaced_payment_id: str | MISSING = MISSING
    replaced_link_deactivated: bool | MISSING = MISSING
    replaced_simulated_payment_id: str | MISSING = MISSING


class StatusResult(_Result):
    """``check_payment_status``."""

    payment_id: str
    payment_status: Literal["pending", "succeeded", "failed", "timeout", "simulated"]
    applied: bool | MISSING = MISSING
    confirmed_by: Literal["stripe_webhook"] | MISSING = MISSING
    is_simulated: bool
    provider: Provider | MISSING = MISSING
    simulated_note: str | MISSING = MISSING
    amount_paid: str | MISSING = MISSING
    amount_paid_cents: int | MISSING = MISSING
    tab: str | MISSING = MISSING
    tab_cents: int | MISSING = MISSING
    balance: str | MISSING = MISSING
    balance_cents: int | MISSING = MISSING
    link_closed: bool | MISSING = MISSING
    credit: str | MISSING = MISSING
    credit_cents: int | MISSING = MISSING
    overpaid: str | MISSING = MISSING
    overpaid_cents: int | MISSING = MISSING
    shortfall: str | MISSING = MISSING
    shortfall_cents: int | MISSING = MISSING
    total_due: str | MISSING = MISSING
    total_due_cents: int | MISSING = MISSING
    needs_reconciliation: bool | MISSING = MISSING
    credit_to_refund: bool | MISSING = MISSING
    open_links_not_owed: list[OpenLink] | MISSING = MISSING
    decline_reason: str | MISSING = MISSING
    url: str | MISSING | None = MISSING
    replaced_simulated_payment_id: str | MISSING = MISSING
    message: str


class FieldProblem(_Result):
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
    fields: list[FieldProblem] | MISSING = MISSING


RESULT_MODELS: dict[str, type[BaseModel]] = {
    "get_menu": MenuResult,
    "order_drink": OrderResult,
    "cancel_last_order": CancelResult,
    "get_balance": BalanceResult,
    "set_tip": TipResult,
    "remove_tip": TipResult,
    "get_bill": BillResult,
    "create_stripe_payment": LinkResult,
    "check_payment_status": StatusResult,
}
"""The ``result`` of each tool's ``ok`` response, by tool name."""
