"""Where the mcp SDK's defaults and the MCP protocol part, set right for Maya's server.

``ServedOnly`` answers ``prompts/*`` and ``resources/*`` -32601 and hides them;
``answer_parse_errors`` answers a stdio line that is not JSON-RPC (-32700, -32600);
``answers_before_close`` answers what stdin brought before it closed, then ends;
``NoCancelledReplies`` sends a cancelled HTTP request no -32800 reply.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp.types import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
)
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CLOSING_ANSWERS_S",
    "REQUEST_CANCELLED",
    "NoCancelledReplies",
    "ServedOnly",
    "answer_parse_errors",
    "answers_before_close",
]

REQUEST_CANCELLED = -32800
"""The code the SDK's HTTP transport answers a cancelled request with (and we drop)."""

CLOSING_ANSWERS_S = 60.0
"""Once stdin closes, how long the server goes on answering the requests it read before:
longer than a tool call takes (a payment link's own budget is 15 s)."""

_HAS_ANY: tuple[str, ...] = ("prompts", "resources")


class ServedOnly:
    """Server middleware: only the method families the server has are served and advertised.

    Args:
        has: for each family (``prompts``, ``resources``), whether the server has any now.
    """

    def __init__(self, has: Callable[[str], Awaitable[bool]]) -> None:
        self._has = has

    async def _unserved(self) -> set[str]:
        return {family for family in _HAS_ANY if not await self._has(family)}

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        """Refuse a request to an unserved family; trim the capabilities the server states."""
        family = ctx.method.split("/", 1)[0]
        if ctx.request_id is not None and family in _HAS_ANY and family in await self._unserved():
            raise MCPError(code=METHOD_NOT_FOUND, message="Method not found", data=ctx.method)
        result = await call_next(ctx)
        if ctx.method in ("initialize", "server/discover") and isinstance(result, dict):
            capabilities = result.get("capabilities")
            if isinstance(capabilities, dict):
                unserved = await self._unserved()
                trimmed = {k: v for k, v in capabilities.items() if k not in unserved}
                result = {**result, "capabilities": trimmed}
        return result


def _error_for(problem: Exception) -> ErrorData:
    if isinstance(problem, ValidationError) and any(
        e["type"] == "json_invalid" for e in problem.errors(include_url=False)
    ):
        return ErrorData(code=PARSE_ERROR, message="Parse error")
    return ErrorData(code=INVALID_REQUEST, message="Invalid Request")


class _Sends(Protocol):
    """What ``answer_parse_errors`` needs of a write stream (the SDK's ``WriteStream``)."""

    async def send(self, item: SessionMessage, /) -> None:
        """Write one message."""


@asynccontextmanager
async def answer_parse_errors(
    read_stream: AsyncIterable[SessionMessage | Exception], write_stream: _Sends
) -> AsyncIterator[MemoryObjectReceiveStream[SessionMessage | Exception]]:
    """Relay ``read_stream``'s messages; answer each line that is not one with an error.

    Yields the stream to serve from; it ends when ``read_stream`` does.
    """
    send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](0)

    async def relay() -> None:
        async with send:
            async for item in read_stream:
                if not isinstance(item, Exception):
                    await send.send(item)
                    continue
                error = JSONRPCError(jsonrpc="2.0", id=None, error=_error_for(item))
                try:
                    await write_stream.send(SessionMessage(error))
                except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                    return

    async with anyio.create_task_group() as tg:
        tg.start_soon(relay)
        try:
            yield receive
        finally:
            tg.cancel_scope.cancel()


class _Writes(_Sends, Protocol):
    """A write stream that can be closed (the SDK's ``WriteStream``)."""

    async def aclose(self) -> None:
        """Close it: the transport writes what it holds and ends."""


@asynccontextmanager
async def answers_before_close(
    read_stream: AsyncIterable[SessionMessage | Exception],
    write_stream: _Writes,
    *,
    within_s: float = CLOSING_ANSWERS_S,
) -> AsyncIterator[
    tuple[
        MemoryObjectReceiveStream[SessionMessage | Exception],
        MemoryObjectSendStream[SessionMessage],
    ]
]:
    """The streams to serve from and write to, such that a request read before the input
    ends is answered before the server does.

    The SDK ends a connection when its input ends, and cancels the requests it is still
    serving: a client that writes its calls and closes stdin (a pipe, a script) would
    lose the answers of calls whose changes were kept. Here the input the server reads
    ends only once every request read has been answered (or cancelled by the client),
    for at most ``within_s`` seconds; the write stream is closed after the server's.
    """
    unanswered: set[int | str] = set()
    changed = anyio.Event()
    send_in, receive_in = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    send_out, receive_out = anyio.create_memory_object_stream[SessionMessage](0)

    def settle(request_id: object) -> None:
        nonlocal changed
        if request_id in unanswered:
            unanswered.discard(request_id)
            changed.set()
            changed = anyio.Event()

    async def inbound() -> None:
        async with send_in:
            async for item in read_stream:
                if isinstance(item, SessionMessage):
                    message = item.message
                    if isinstance(message, JSONRPCRequest):
                        unanswered.add(message.id)
                    elif (
                        isinstance(message, JSONRPCNotification)
                        and message.method == "notifications/cancelled"
                        and isinstance(message.params, dict)
                    ):
                        settle(message.params.get("requestId"))
                await send_in.send(item)
            with anyio.move_on_after(within_s):
                while unanswered:
                    await changed.wait()

    async def outbound() -> None:
        try:
            async with receive_out:
                async for item in receive_out:
                    message = item.message
                    await write_stream.send(item)
                    if isinstance(message, JSONRPCResponse | JSONRPCError):
                        settle(message.id)
        finally:
            await write_stream.aclose()

    async with receive_in, anyio.create_task_group() as tg:
        tg.start_soon(inbound)
        tg.start_soon(outbound)
        yield receive_in, send_out


def _is_cancelled_reply(body: bytes) -> bool:
    """Whether an SSE event is the JSON-RPC error the SDK writes for a cancelled request."""
    if str(REQUEST_CANCELLED).encode() not in body:
        return False
    for line in body.splitlines():
        if line.startswith(b"data:"):
            try:
                payload = json.loads(line[5:])
            except ValueError:
                return False
            error = payload.get("error") if isinstance(payload, dict) else None
            return isinstance(error, dict) and error.get("code") == REQUEST_CANCELLED
    return False


class NoCancelledReplies:
    """ASGI middleware: a cancelled request's SSE stream ends without an answer."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app`` (the streamable HTTP app)."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything through except the ``-32800`` event of a cancelled request."""
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return

        async def without_cancelled_replies(message: Message) -> None:
            if message["type"] == "http.response.body" and _is_cancelled_reply(
                message.get("body", b"")
            ):
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, without_cancelled_replies)
