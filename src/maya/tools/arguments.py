"""One pydantic model per tool: its arguments, their limits and the words Gemini reads.

A model's docstring is the tool's description and each ``Field`` description the
parameter's (sent on every turn: keep them short). A whole number may arrive as ``2`` or
``2.0`` but never as ``true``, ``"2"`` or ``2.5``; text is bounded.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from maya.state.catalog import MAX_QUANTITY, TabSettings

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

    @classmethod
    def fitted_schema(cls, schema: dict[str, Any], settings: TabSettings) -> dict[str, Any]:
        """``schema`` (this model's, as Gemini reads it) as the tab's ``settings`` allow,
        so the model is told the limits it will meet; by default, as it is. Returns a new
        schema, never changing ``schema``.

        Raises:
            ValueError: the tool cannot be offered under ``settings`` (saying why).
        """
        return schema


class NoArgs(ToolArgs):
    """Base of tools that take no arguments."""


class OrderItemArgs(ToolArgs):
    """Order an item from the catalog for the customer; its price goes on the bill."""

    name: Text = Field(description="Item name as in the catalog.")
    # The most any tab's settings allow; the declared maximum is the tab's own.
    quantity: WholeNumber = Field(
        default=1, ge=1, le=MAX_QUANTITY, description="How many. Default 1."
    )

    @classmethod
    def fitted_schema(cls, schema: dict[str, Any], settings: TabSettings) -> dict[str, Any]:
        """The quantity's maximum is the tab's ``max_quantity``."""
        fitted = copy.deepcopy(schema)
        quantity = fitted["properties"]["quantity"]
        quantity["maximum"] = settings.max_quantity
        quantity["description"] = f"How many, 1-{settings.max_quantity}. Default 1."
        return fitted


class GetCatalogArgs(NoArgs):
    """What is for sale: every item with its price."""


class CancelLastOrderArgs(NoArgs):
    """Cancel the last item ordered: it comes off the bill (and back on any balance)."""


class GetBalanceArgs(NoArgs):
    """The customer's remaining balance and current tab."""


class SetTipArgs(ToolArgs):
    """Add a tip of one of the percentages offered; the current tip again removes it."""

    percent: WholeNumber = Field(
        description="Tip percent: 10, 15 or 20.", json_schema_extra={"enum": [10, 15, 20]}
    )

    @classmethod
    def fitted_schema(cls, schema: dict[str, Any], settings: TabSettings) -> dict[str, Any]:
        """Only the tab's ``tip_percentages`` are offered."""
        offered = list(settings.tip_percentages)
        if not offered:
            raise ValueError("the tab takes no tips (tip_percentages is empty): leave it out")
        fitted = copy.deepcopy(schema)
        percent = fitted["properties"]["percent"]
        percent["enum"] = offered
        words = ", ".join(map(str, offered[:-1])) + (" or " if len(offered) > 1 else "")
        percent["description"] = f"Tip percent: {words}{offered[-1]}."
        return fitted


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
