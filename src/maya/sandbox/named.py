"""Stripe's older named MCP dialect: ``create_product``, ``create_price``, ``create_payment_link``.

Its quirks are reproduced because Maya's client must cope: no metadata or idempotency key,
``{"id", "url"}`` answers, failures as a quoted text *without* ``isError``, no status tool.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, cast

import anyio.to_thread
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase
from mcp.types import CallToolResult
from pydantic import Field

from maya.sandbox._results import json_result, malform, text_result
from maya.sandbox.errors import StripeError
from maya.sandbox.faults import FaultInjector
from maya.sandbox.operations import run_operation
from maya.sandbox.store import SandboxStore

__all__ = ["NAMED_FAILURES", "NAMED_TOOLS", "named_tools"]

NAMED_TOOLS = ("create_product", "create_price", "create_payment_link")
"""The named dialect's tool names."""

NAMED_FAILURES: Mapping[str, str] = {
    "create_product": "Failed to create product",
    "create_price": "Failed to create price",
    "create_payment_link": "Failed to create payment link",
}
"""The sentence each tool returns when anything goes wrong (sent JSON-quoted)."""


def _strict(tool: Tool) -> Tool:
    """Reject unknown arguments and advertise ``additionalProperties: false``, as Stripe did."""
    base = tool.fn_metadata.arg_model
    strict = cast(
        type[ArgModelBase],
        types.new_class(
            base.__name__,
            (base,),
            exec_body=lambda ns: ns.update(model_config={**base.model_config, "extra": "forbid"}),
        ),
    )
    tool.fn_metadata.arg_model = strict
    tool.parameters = strict.model_json_schema(by_alias=True)
    return tool


def named_tools(
    store: SandboxStore, *, faults: FaultInjector, checkout_base_url: str
) -> list[Tool]:
    """Build the named dialect's tools over ``store``.

    Args:
        store: Where the objects live.
        faults: Applied to every call; ``text_failures`` applies here.
        checkout_base_url: Prefix for payment link URLs.
    """

    async def call(
        tool: str, operation_id: str, parameters: dict[str, Any], *, only_id_and_url: bool = False
    ) -> CallToolResult:
        failure = NAMED_FAILURES[tool]

        async def act() -> CallToolResult:
            run = partial(
                run_operation, store, operation_id, parameters, checkout_base_url=checkout_base_url
            )
            try:
                obj = await anyio.to_thread.run_sync(run)
            except StripeError:
                # The named server swallowed Stripe's error into one sentence, no isError.
                return text_result(json.dumps(failure))
            if only_id_and_url:
                obj = {"id": obj["id"], "url": obj["url"]}
            return json_result(obj)

        return await faults.run(
            (tool,),
            act,
            fail=lambda: text_result(json.dumps(failure)),
            malform=malform,
            text_dialect=True,
        )

    async def create_product(
        name: Annotated[str, Field(description="The name of the product.")],
        description: Annotated[str, Field(description="The description of the product.")] = "",
    ) -> CallToolResult:
        params: dict[str, Any] = {"name": name}
        if description:
            params["description"] = description
        return await call("create_product", "PostProducts", params)

    async def create_price(
        product: Annotated[
            str, Field(description="The ID of the product to create the price for.")
        ],
        unit_amount: Annotated[int, Field(description="The unit amount of the price in cents.")],
        currency: Annotated[str, Field(description="The currency of the price.")],
    ) -> CallToolResult:
        params = {"product": product, "unit_amount": unit_amount, "currency": currency}
        return await call("create_price", "PostPrices", params)

    async def create_payment_link(
        price: Annotated[
            str, Field(description="The ID of the price to create the payment link for.")
        ],
        quantity: Annotated[int, Field(description="The quantity of the product to include.")],
        redirect_url: Annotated[
            str, Field(description="The URL to redirect to after the payment is completed.")
        ] = "",
    ) -> CallToolResult:
        params: dict[str, Any] = {"line_items": [{"price": price, "quantity": quantity}]}
        if redirect_url:
            params["after_completion"] = {"type": "redirect", "redirect": {"url": redirect_url}}
        return await call("create_payment_link", "PostPaymentLinks", params, only_id_and_url=True)

    return [
        _strict(Tool.from_function(create_product, description="Create a product in Stripe.")),
        _strict(Tool.from_function(create_price, description="Create a price in Stripe.")),
        _strict(
            Tool.from_function(create_payment_link, description="Create a payment link in Stripe.")
        ),
    ]
