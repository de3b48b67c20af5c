"""One pydantic model per tool: its arguments, their limits and the words Gemini reads.

A model's docstring is the tool's description and each ``Field`` description the
parameter's (sent on every turn: keep them short). A whole number may arrive as ``2`` or
``2.0`` but never as ``true``, ``"2"`` or ``2.5``; text is bounded.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "MAX_TEXT",
    "CancelLastOrderArgs",
    "CheckPaymentStatusArgs",
    "CreateStripePaymentArgs",
    "GetBalanceArgs",
    "GetBillArgs",
    "GetCatalogArgs",
    "NoArgs",
    "OrderItemArgs",
    "RemoveTipArgs",
    "SetTipArgs",
    "Text",
    "ToolArgs",
    "WholeNumber",
]

MAX_TEXT = 100
"""The longest text any argument may be."""


def _whole_number(value: Any) -> Any:
    """Accept ints and integral floats; refuse booleans, text and fractions."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]


class ToolArgs(BaseModel):
    """Base of every tool's arguments: unknown arguments are refused, text is strict."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoArgs(ToolArgs):
    """Base of tools that take no arguments."""


MAX_ORDER_QUANTITY = 999
"""The schema's bound on a catalog order's quantity; the tab's settings may allow fewer."""


class OrderItemArgs(ToolArgs):
    """Order an item from the catalog for the customer; its price goes on the bill."""

    name: Text = Field(description="Item name as in the catalog.")
    quantity: WholeNumber = Field(
        default=1, ge=1, le=MAX_ORDER_QUANTITY, description="How many. Default 1."
    )


class GetCatalogArgs(NoArgs):
    """What is for sale: every item with its price."""


class CancelLastOrderArgs(NoArgs):
    """Cancel the last item ordered: it comes off the bill (and back on any balance)."""


class GetBalanceArgs(NoArgs):
    """The customer's remaining balance and current tab."""


class SetTipArgs(ToolArgs):
    """Add a tip of 10, 15 or 20 percent; the current tip again removes it."""

    percent: WholeNumber = Field(
        description="Tip percent: 10, 15 or 20.", json_schema_extra={"enum": [10, 15, 20]}
    )


class RemoveTipArgs(NoArgs):
    """Remove the tip."""


class GetBillArgs(NoArgs):
    """The itemised bill: items, tab, tip, total due and payment status or link."""


class CreateStripePaymentArgs(NoArgs):
    """Make a Stripe payment link for the whole bill (tab + tip). Takes no amount."""


class CheckPaymentStatusArgs(ToolArgs):
    """Check whether the customer has paid their payment link; applies a payment once."""

    payment_id: Text | None = Field(
        default=None, description="Omit to check the current payment link."
    )
