"""Building MCP tool results the way Stripe's servers shape them."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio.to_thread
from mcp.types import CallToolResult, TextContent

from maya.sandbox.errors import StripeError
from maya.sandbox.faults import MalformedMode
from maya.sandbox.operations import run_operation
from maya.sandbox.store import SandboxStore

__all__ = ["error_result", "json_result", "malform", "operation_result", "text_result"]

# What a proxy in front of a dead upstream tends to answer: not JSON at all.
_GARBAGE = "<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>"

# The fields a client needs to trust an answer; "fields" malformation removes them.
_IDENTIFYING = ("id", "url", "status", "payment_status", "data")


def json_result(obj: dict[str, Any]) -> CallToolResult:
    """A successful result whose only content is ``obj`` as JSON text."""
    return text_result(json.dumps(obj))


def error_result(obj: dict[str, Any]) -> CallToolResult:
    """A failed result (``isError``) whose content is ``obj`` as JSON text."""
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(obj))], is_error=True)


def text_result(text: str) -> CallToolResult:
    """A successful result with one text block; also how the named dialect fails."""
    return CallToolResult(content=[TextContent(type="text", text=text)])


async def operation_result(
    store: SandboxStore,
    operation_id: str,
    parameters: dict[str, Any],
    *,
    checkout_base_url: str,
    write: bool,
    failed: Callable[[StripeError], CallToolResult],
) -> CallToolResult:
    """Run one API operation in a worker thread: its object as JSON, or ``failed(error)``."""
    run = partial(
        run_operation,
        store,
        operation_id,
        parameters,
        checkout_base_url=checkout_base_url,
        write=write,
    )
    try:
        obj = await anyio.to_thread.run_sync(run)
    except StripeError as exc:
        return failed(exc)
    return json_result(obj)


def malform(result: CallToolResult, mode: MalformedMode) -> CallToolResult:
    """Break a successful result: replace it with non-JSON or strip its identifying fields.

    Error results are left alone: the fault is about answers that look like success.
    """
    if result.is_error or mode == "none":
        return result
    if mode == "text":
        return text_result(_GARBAGE)
    block = result.content[0]
    assert isinstance(block, TextContent)  # every result the sandbox builds is text
    try:
        obj = json.loads(block.text)
    except ValueError:
        return text_result(_GARBAGE)
    return json_result({k: v for k, v in obj.items() if k not in _IDENTIFYING})
