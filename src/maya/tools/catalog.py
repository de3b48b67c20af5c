"""The tools on offer: each one's name, arguments model and handler, and the sets of them
an integrator picks from (``PAYMENT_TOOLS``, ``CATALOG_TOOLS``; the bar's ``DEFAULT_TOOLS``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from maya.tools import handlers, payment_handlers
from maya.tools.arguments import (
    CancelLastOrderArgs,
    CheckPaymentStatusArgs,
    CreateStripePaymentArgs,
    GetBalanceArgs,
    GetBillArgs,
    GetCatalogArgs,
    GetMenuArgs,
    OrderDrinkArgs,
    OrderItemArgs,
    RemoveTipArgs,
    SetTipArgs,
    ToolArgs,
)
from maya.tools.context import ToolContext

__all__ = ["CATALOG_TOOLS", "DEFAULT_TOOLS", "PAYMENT_TOOLS", "Handler", "ToolSpec"]

A = TypeVar("A", bound=ToolArgs)

Handler = Callable[[ToolContext, str, A], Awaitable[dict[str, Any]]]
"""``handler(context, session_id, arguments) -> result``; refusals are raised."""


@dataclass(frozen=True, slots=True)
class ToolSpec(Generic[A]):
    """One tool: the name the model calls, the model its arguments are checked against
    (whose docstring and field descriptions the model reads), and what runs.

    Attributes:
        name: the function name in the declaration.
        arguments: the pydantic model of its arguments.
        handler: the coroutine function that does the work.
    """

    name: str
    arguments: type[A]
    handler: Handler[A]

    async def run(self, ctx: ToolContext, session_id: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate ``raw`` and run the handler.

        Raises:
            pydantic.ValidationError: the arguments do not fit the model.
            Exception: whatever the handler raises.
        """
        return await self.handler(ctx, session_id, self.arguments.model_validate(raw))


PAYMENT_TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        "create_stripe_payment", CreateStripePaymentArgs, payment_handlers.create_stripe_payment
    ),
    ToolSpec("check_payment_status", CheckPaymentStatusArgs, payment_handlers.check_payment_status),
)
"""The payment pair: a Stripe payment link for the stored bill, and its status. With an
integrator's own order code (``TabManager.add_items``) these are all the tools needed."""

CATALOG_TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec("get_catalog", GetCatalogArgs, handlers.get_catalog),
    ToolSpec("order_item", OrderItemArgs, handlers.order_item),
    ToolSpec("cancel_last_order", CancelLastOrderArgs, handlers.cancel_last_order),
    ToolSpec("get_bill", GetBillArgs, handlers.get_bill),
    *PAYMENT_TOOLS,
)
"""Selling from a ``Catalog``: what is for sale, order, cancel, the bill, and paying."""

DEFAULT_TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec("get_menu", GetMenuArgs, handlers.get_menu),
    ToolSpec("order_drink", OrderDrinkArgs, handlers.order_drink),
    ToolSpec("cancel_last_order", CancelLastOrderArgs, handlers.cancel_last_order),
    ToolSpec("get_balance", GetBalanceArgs, handlers.get_balance),
    ToolSpec("set_tip", SetTipArgs, handlers.set_tip),
    ToolSpec("remove_tip", RemoveTipArgs, handlers.remove_tip),
    ToolSpec("get_bill", GetBillArgs, handlers.get_bill),
    *PAYMENT_TOOLS,
)
"""The bar's tools (menu with modifiers, prepaid balance, tips), in the order the model is
shown them."""
