"""The tools on offer: each one's name, arguments, handler and result model, and the sets
of them an integrator picks from (``PAYMENT_TOOLS``, ``CATALOG_TOOLS``, ``TOOLS`` by name)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from maya.tools import arguments as args
from maya.tools import handlers, payment_handlers
from maya.tools import result_models as results
from maya.tools.context import ToolContext

__all__ = [
    "CATALOG_TOOLS",
    "PAYMENT_TOOLS",
    "RESULT_MODELS",
    "TOOLS",
    "Handler",
    "SoldWithTools",
    "ToolSpec",
]

A = TypeVar("A", bound=args.ToolArgs)

Handler = Callable[[ToolContext, str, A], Awaitable[dict[str, Any]]]
"""``handler(context, session_id, arguments) -> result``; refusals are raised."""


@dataclass(frozen=True, slots=True)
class ToolSpec(Generic[A]):
    """One tool: the name the model calls, the model its arguments are checked against
    (whose docstring and field descriptions the model reads), what runs, and what it
    answers.

    Attributes:
        name: the function name in the declaration.
        arguments: the pydantic model of its arguments.
        handler: the coroutine function that does the work.
        result: the pydantic model of its ``ok`` result (its MCP ``outputSchema``); None
            for a tool that declares none.
        read_only: it changes nothing (MCP's ``readOnlyHint``): it only reads.
        open_world: it reaches outside the application (Stripe; MCP's ``openWorldHint``).
    """

    name: str
    arguments: type[A]
    handler: Handler[A]
    result: type[BaseModel] | None = None
    read_only: bool = False
    open_world: bool = False

    async def run(self, ctx: ToolContext, session_id: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Validate ``raw`` and run the handler.

        Raises:
            pydantic.ValidationError: the arguments do not fit the model.
            Exception: whatever the handler raises.
        """
        return await self.handler(ctx, session_id, self.arguments.model_validate(raw))


PAYMENT_TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        "create_stripe_payment",
        args.CreateStripePaymentArgs,
        payment_handlers.create_stripe_payment,
        results.PaymentLinkResult,
        open_world=True,
    ),
    ToolSpec(
        "check_payment_status",
        args.CheckPaymentStatusArgs,
        payment_handlers.check_payment_status,
        results.PaymentCheckResult,
        open_world=True,  # and not read-only: a paid link settles the tab
    ),
)
"""The payment pair: a Stripe payment link for the stored bill, and its status. With an
integrator's own order code (``TabManager.add_items``) these are all the tools needed."""

_ALL: tuple[ToolSpec[Any], ...] = (
    ToolSpec(
        "get_catalog",
        args.GetCatalogArgs,
        handlers.get_catalog,
        results.CatalogResult,
        read_only=True,
    ),
    ToolSpec("order_item", args.OrderItemArgs, handlers.order_item, results.OrderItemResult),
    ToolSpec(
        "cancel_last_order",
        args.CancelLastOrderArgs,
        handlers.cancel_last_order,
        results.CancelResult,
    ),
    ToolSpec(
        "get_balance",
        args.GetBalanceArgs,
        handlers.get_balance,
        results.BalanceResult,
        read_only=True,
    ),
    ToolSpec("set_tip", args.SetTipArgs, handlers.set_tip, results.TipResult),
    ToolSpec("remove_tip", args.RemoveTipArgs, handlers.remove_tip, results.TipResult),
    ToolSpec("get_bill", args.GetBillArgs, handlers.get_bill, results.BillResult, read_only=True),
    *PAYMENT_TOOLS,
)

TOOLS: Mapping[str, ToolSpec[Any]] = {spec.name: spec for spec in _ALL}
"""Every tool of the plugin, by name, for an application assembling its own set."""

CATALOG_TOOLS: tuple[ToolSpec[Any], ...] = tuple(
    TOOLS[name]
    for name in (
        "get_catalog",
        "order_item",
        "cancel_last_order",
        "get_bill",
        "create_stripe_payment",
        "check_payment_status",
    )
)
"""Selling from a ``Catalog``: what is for sale, order, cancel, the bill, and paying."""

RESULT_MODELS: Mapping[str, type[BaseModel]] = {
    name: spec.result for name, spec in TOOLS.items() if spec.result is not None
}
"""The result model of each of the plugin's tools, by name."""


@runtime_checkable
class SoldWithTools(Protocol):
    """A catalog naming the tools it is sold with (the reference app's menu does): a
    ``Toolset`` given no ``tools`` offers these."""

    @property
    def tools(self) -> Sequence[ToolSpec[Any]]:
        """The tools, in the order the model is shown them."""
        ...
