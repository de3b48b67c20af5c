"""What a ``StripeMCPClient`` sent, counted at the client, for servers a test cannot ask.

The in-memory sandbox counts the requests that reach it (``maya.sandbox.CallCounts``);
a sandbox process or a real ``@stripe/mcp`` cannot, so tests count here into the same type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maya.payments import StripeMCPClient
from maya.payments._session import ToolInfo, ToolReply
from maya.sandbox import LIST_TOOLS, CallCounts

__all__ = ["count_client_calls", "forget_availability", "sessions_attempted"]


def count_client_calls(client: StripeMCPClient) -> CallCounts:
    """Count ``client``'s tool calls (by tool and Stripe operation) and probes from now on."""
    counts = CallCounts()
    session = client._session
    call_tool, list_tools = session.call_tool, session.list_tools

    async def counted_call(
        tool: str, arguments: Mapping[str, Any], *, op: str | None = None, **options: Any
    ) -> ToolReply:
        counts.record(tool, op)
        return await call_tool(tool, arguments, op=op, **options)

    async def counted_list(*, time_limit: float) -> tuple[ToolInfo, ...]:
        counts.record(LIST_TOOLS)
        return await list_tools(time_limit=time_limit)

    setattr(session, "call_tool", counted_call)  # noqa: B010
    setattr(session, "list_tools", counted_list)  # noqa: B010
    return counts


def forget_availability(client: StripeMCPClient) -> None:
    """Forget the last probe's answer and any failed start: the next call probes again."""
    client._availability.forget()
    client._session._open_until = None  # the breaker: a new session may start at once
    client._session._losses.clear()


def sessions_attempted(client: StripeMCPClient) -> int:
    """Sessions ``client`` tried to open so far (processes spawned, for a stdio server)."""
    return client._session.attempt_count
