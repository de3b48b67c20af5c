"""Helpers shared by the sandbox's tests: a thin caller for the generic dialect."""

from __future__ import annotations

import json
from typing import Any

from mcp import Client
from mcp.types import CallToolResult, TextContent

BASE_URL = "http://127.0.0.1:4242"
"""A checkout base URL for in-memory servers (nothing listens there)."""


def text_of(result: CallToolResult) -> str:
    """The single text block of a tool result."""
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


class Stripe:
    """Calls the generic dialect the way Maya's client does, returning parsed JSON."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def raw(self, operation: str, parameters: dict[str, Any]) -> CallToolResult:
        tool = "stripe_api_read" if operation.startswith("Get") else "stripe_api_write"
        return await self.client.call_tool(
            tool, {"stripe_api_operation_id": operation, "parameters": parameters}
        )

    async def call(self, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
        result = await self.raw(operation, parameters)
        assert not result.is_error, text_of(result)
        body: dict[str, Any] = json.loads(text_of(result))
        return body

    async def error(self, operation: str, parameters: dict[str, Any]) -> dict[str, Any]:
        result = await self.raw(operation, parameters)
        assert result.is_error, text_of(result)
        body: dict[str, Any] = json.loads(text_of(result))["error"]
        return body

    async def link(
        self,
        *,
        name: str = "Martini",
        unit_amount: int = 1250,
        quantity: int = 1,
        metadata: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create product, price and payment link; return the link."""
        product = await self.call("PostProducts", {"name": name})
        price = await self.call(
            "PostPrices", {"product": product["id"], "unit_amount": unit_amount, "currency": "usd"}
        )
        params: dict[str, Any] = {"line_items": [{"price": price["id"], "quantity": quantity}]}
        if metadata is not None:
            params["metadata"] = metadata
        return await self.call("PostPaymentLinks", params)

    async def sessions(self, link_id: str) -> list[dict[str, Any]]:
        listing = await self.call("GetCheckoutSessions", {"payment_link": link_id})
        data: list[dict[str, Any]] = listing["data"]
        return data
