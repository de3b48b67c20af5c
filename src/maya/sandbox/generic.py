"""Stripe's generic MCP dialect: ``stripe_api_write`` and ``stripe_api_read``.

Each takes ``{stripe_api_operation_id, parameters}`` (``operations.OPERATIONS``); results are
the Stripe object as JSON text, failures ``isError`` with Stripe's ``{"error": {...}}`` body.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult
from pydantic import Field

from maya.sandbox._results import error_result, malform, operation_result
from maya.sandbox.errors import StripeError
from maya.sandbox.faults import FaultInjector
from maya.sandbox.operations import OPERATIONS
from maya.sandbox.store import SandboxStore

__all__ = ["GENERIC_TOOLS", "INJECTED_ERROR", "generic_tools"]

GENERIC_TOOLS = ("stripe_api_write", "stripe_api_read")
"""The generic dialect's tool names."""

INJECTED_ERROR = StripeError(
    "An error occurred with our connection to Stripe (sandbox fault injection).",
    type="api_error",
    code="sandbox_injected_fault",
)
"""What an ``error_rate`` fault answers in this dialect."""

RATE_LIMITED = StripeError(
    "Request rate limit exceeded. You can learn more about rate limits here "
    "https://stripe.com/docs/rate-limits.",
    type="invalid_request_error",
    code="rate_limit",
)
"""What a ``rate_limit_on`` fault answers: Stripe's shape for an HTTP 429."""

REFUSED = StripeError(
    "The provided key does not have the required permissions for this endpoint.",
    type="invalid_request_error",
    code="secret_key_required",
)
"""What a ``refuse`` fault answers: a restricted key without the permission."""

OperationId = Annotated[
    str, Field(description="Stripe API operation id, e.g. PostPaymentLinks or GetCheckoutSessions.")
]
Parameters = Annotated[
    dict[str, Any], Field(description="The operation's parameters, as in Stripe's API reference.")
]


def _describe(write: bool) -> str:
    ops = ", ".join(op.id for op in OPERATIONS.values() if op.write == write)
    verb = "Create or update" if write else "Retrieve or list"
    return f"{verb} Stripe objects by API operation (test mode sandbox). Operations: {ops}."


def generic_tools(
    store: SandboxStore, *, faults: FaultInjector, checkout_base_url: str
) -> list[Tool]:
    """Build the generic dialect's tools over ``store``.

    Args:
        store: Where the objects live.
        faults: Applied to every call; ``only`` may name a tool or an operation id.
        checkout_base_url: Prefix for payment link URLs.
    """

    run = partial(
        operation_result,
        store,
        checkout_base_url=checkout_base_url,
        failed=lambda exc: error_result(exc.to_json()),
    )

    async def call(write: bool, operation_id: str, parameters: dict[str, Any]) -> CallToolResult:
        tool = GENERIC_TOOLS[0] if write else GENERIC_TOOLS[1]
        act = partial(run, operation_id, parameters, write=write)
        return await faults.run(
            (tool, operation_id),
            act,
            fail=lambda: error_result(INJECTED_ERROR.to_json()),
            malform=malform,
            rate_limited=lambda: error_result(RATE_LIMITED.to_json()),
            refused=lambda: error_result(REFUSED.to_json()),
        )

    async def stripe_api_write(
        stripe_api_operation_id: OperationId, parameters: Parameters
    ) -> CallToolResult:
        return await call(True, stripe_api_operation_id, parameters)

    async def stripe_api_read(
        stripe_api_operation_id: OperationId, parameters: Parameters
    ) -> CallToolResult:
        return await call(False, stripe_api_operation_id, parameters)

    return [
        Tool.from_function(stripe_api_write, description=_describe(write=True)),
        Tool.from_function(stripe_api_read, description=_describe(write=False)),
    ]
