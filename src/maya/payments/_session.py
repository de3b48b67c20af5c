"""One persistent, self-healing MCP session per server, held open by a task the client owns.

A broken session is reopened and only a repeat-safe read is re-sent; a failed start trips
a breaker. MCP results and errors become ``ToolReply`` and ``CallFailure`` here.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
import httpx2
from anyio.abc import TaskGroup
from mcp import Client, MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    INTERNAL_ERROR,
    INVALID_REQUEST,
    REQUEST_TIMEOUT,
    TextContent,
)
from pydantic import ValidationError

from maya.payments._failures import CallFailure, FailureKind
from maya.payments._transports import Connector
from maya.redact import redact

__all__ = ["McpSession", "ToolInfo", "ToolReply"]

_log = logging.getLogger("maya.payments")

# Bound on waiting for a closing session to shut down (stdio waits for the process).
_CLOSE_TIMEOUT = 8.0
# Sessions lost within one ``retry_after`` window before the breaker opens.
_LOSSES_TO_TRIP = 3
# A tool listing longer than this many pages is not a Stripe server.
_MAX_LIST_PAGES = 20

T = TypeVar("T")

_LOST_ERRORS: tuple[type[BaseException], ...] = (
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    anyio.EndOfStream,
    httpx2.TransportError,
    OSError,
)


@dataclass(frozen=True, slots=True)
class ToolReply:
    """A tool's answer in plain terms: its text, and whether the server flagged an error.

    Attributes:
        is_error: The result had ``isError`` set.
        text: Its text content, joined.
    """

    is_error: bool
    text: str

    def json(self) -> Any:
        """The text parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool as ``tools/list`` described it.

    Attributes:
        name: The tool's name.
        input_schema: Its JSON Schema for arguments (``{}`` when the server gave none).
    """

    name: str
    input_schema: Mapping[str, Any]


class StartingError(CallFailure):
    """No session yet, but the server is still starting: not a verdict on availability."""

    def __init__(self, summary: str, *, tool: str | None = None) -> None:
        super().__init__("connect", summary, tool=tool)


class _Connection:
    """One attempt at a session, and the events its holder task reports through."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.client: Client | None = None
        self.error: BaseException | None = None
        self.settled = anyio.Event()  # connected, or failed to
        self.stop = anyio.Event()  # asked to close
        self.done = anyio.Event()  # closed
        self.scope = anyio.CancelScope()


class McpSession:
    """A persistent, self-healing MCP session.

    Args:
        connect: Makes a new ``mcp.Client`` for each connection.
        server_name: For log lines and errors.
        on_connection_error: Called when a connection fails or breaks (the client
            invalidates its availability cache).
        connect_timeout: Seconds a new session may take to open (spawn + handshake).
        retry_after: Seconds after a failed start (or a second lost session) before a
            new one is attempted.
        clock: Monotonic seconds for the breaker; tests pass a fake.

    Attributes:
        connect_count: Sessions opened so far (1 while the first one stays healthy).
        attempt_count: Sessions attempted (spawns, for stdio servers).
    """

    def __init__(
        self,
        connect: Connector,
        *,
        server_name: str,
        on_connection_error: Callable[[], None] | None = None,
        connect_timeout: float = 30.0,
        retry_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connect = connect
        self.server_name = server_name
        self._on_connection_error = on_connection_error
        self.connect_timeout = connect_timeout
        self.retry_after = retry_after
        self._clock = clock
        self._open_until: float | None = None  # breaker: no new session before this
        self._losses: list[float] = []
        self._breaker_reason = ""
        self.connect_count = 0
        self.attempt_count = 0
        self._current: _Connection | None = None
        self._live: set[_Connection] = set()
        self._lock = anyio.Lock()
        self._tg: TaskGroup | None = None

    def attach(self, task_group: TaskGroup) -> None:
        """Give the session the task group its connections live in.

        Args:
            task_group: Owned by the client; open for as long as the session is used.
        """
        self._tg = task_group

    @property
    def connected(self) -> bool:
        """Whether a session is open right now."""
        conn = self._current
        return conn is not None and conn.client is not None and not conn.done.is_set()

    async def aclose(self) -> None:
        """Close every connection, waiting (bounded) for each to shut down."""
        self._tg = None
        self._current = None
        for conn in list(self._live):
            conn.stop.set()
        with anyio.move_on_after(_CLOSE_TIMEOUT, shield=True):
            for conn in list(self._live):
                await conn.done.wait()
        for conn in list(self._live):
            conn.scope.cancel()

    async def list_tools(self, *, time_limit: float) -> tuple[ToolInfo, ...]:
        """The server's tools with their input schemas.

        Args:
            time_limit: Seconds for listing once connected; opening a session is bounded
                by ``connect_timeout`` on its own.

        Raises:
            CallFailure: no session, a broken one, no answer in time, or an error.
        """
        return await self._run(
            "tools/list",
            None,
            _list_tools,
            time_limit=time_limit,
            repeat_safe=True,
            own_connect=True,
        )

    async def call_tool(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        time_limit: float,
        op: str | None = None,
        repeat_safe: bool = False,
    ) -> ToolReply:
        """Call a tool on the persistent session.

        Args:
            tool: The tool's name.
            arguments: Its arguments.
            time_limit: Seconds for connecting (if needed) and the call, together.
            op: The Stripe operation, for the log line.
            repeat_safe: True only for reads: the call may be sent again on a new session
                after the old one broke mid-call. Writes never are.

        Returns:
            The tool's answer, including ``isError`` answers.

        Raises:
            CallFailure: no session, a broken one, no answer in time, or a protocol error.
        """
        result = await self._run(
            tool,
            op,
            partial(Client.call_tool, name=tool, arguments=dict(arguments)),
            time_limit=time_limit,
            repeat_safe=repeat_safe,
        )
        texts: list[str] = []
        for block in result.content:
            if isinstance(block, TextContent):
                texts.append(block.text)
        text = "\n".join(texts)
        if not texts and result.structured_content is not None:
            text = json.dumps(result.structured_content)
        return ToolReply(is_error=result.is_error, text=text)

    async def _run(
        self,
        tool: str,
        op: str | None,
        action: Callable[[Client], Awaitable[T]],
        *,
        time_limit: float,
        repeat_safe: bool,
        own_connect: bool = False,
    ) -> T:
        started = anyio.current_time()
        deadline = started + time_limit
        outcome = "cancelled"
        try:
            for round_ in range(2):
                connect_deadline = (
                    anyio.current_time() + self.connect_timeout if own_connect else deadline
                )
                conn = self._current
                if conn is None or conn.client is None or conn.done.is_set() or self._tg is None:
                    conn = await self._connection(connect_deadline, tool)
                if own_connect:
                    deadline = anyio.current_time() + time_limit
                try:
                    client = conn.client
                    if client is None:
                        raise anyio.ClosedResourceError
                    with anyio.fail_after(max(deadline - anyio.current_time(), 0.0)):
                        answer = await action(client)
                except Exception as exc:
                    failure = _classify(exc, tool, time_limit)
                    if failure.kind != "lost":
                        raise failure from None
                    self._drop(conn, failure)
                    if round_ == 0 and repeat_safe:
                        continue
                    raise failure from None
                outcome = "ok"
                return answer
            raise AssertionError("unreachable: the second round returns or raises")
        except CallFailure as failure:
            outcome = failure.kind
            raise
        finally:
            _log.info(
                "mcp call server=%s tool=%s op=%s ms=%.1f outcome=%s",
                self.server_name,
                tool,
                op or "-",
                (anyio.current_time() - started) * 1000,
                outcome,
            )

    def _breaker_open(self) -> bool:
        return self._open_until is not None and self._clock() < self._open_until

    def _trip(self, reason: str) -> None:
        self._open_until = self._clock() + self.retry_after
        self._breaker_reason = reason
        _log.warning(
            "mcp server=%s: %s; not restarted for %.0fs", self.server_name, reason, self.retry_after
        )

    async def _connection(self, deadline: float, tool: str) -> _Connection:
        tg = self._tg
        if tg is None:
            raise CallFailure("connect", "the Stripe client is not open", tool=tool)
        current = self._current
        if (current is None or current.done.is_set()) and self._breaker_open():
            raise CallFailure("connect", f"{self._breaker_reason} (not restarted yet)", tool=tool)
        conn: _Connection | None = None
        try:
            with anyio.fail_after(max(deadline - anyio.current_time(), 0.0)):
                async with self._lock:
                    conn = self._current
                    if conn is None or conn.done.is_set():
                        conn = _Connection(anyio.current_time())
                        self._current = conn
                        self._live.add(conn)
                        self.attempt_count += 1
                        tg.start_soon(self._hold, conn)
            if not conn.settled.is_set():
                # The connect bound is for opening a session; an open one lives until it fails.
                until = min(deadline, conn.started + self.connect_timeout)
                with anyio.fail_after(max(until - anyio.current_time(), 0.0)):
                    await conn.settled.wait()
        except TimeoutError:
            if conn is not None and not conn.settled.is_set():
                if anyio.current_time() < conn.started + self.connect_timeout - 0.001:
                    # Still within its start-up allowance: let it finish for the next caller.
                    raise StartingError("the server is still starting", tool=tool) from None
                # Abandon a start that hangs; the breaker keeps it from respawning at once.
                conn.scope.cancel()
                self._forget(conn)
                self._trip(f"did not start within {self.connect_timeout:.1f}s")
            self._connection_failed()
            raise CallFailure("connect", "no session could be opened in time", tool=tool) from None
        if conn.client is None:
            self._forget(conn)
            self._trip(f"failed to start: {_describe(conn.error)}")
            self._connection_failed()
            raise CallFailure("connect", _describe(conn.error), tool=tool)
        return conn

    async def _hold(self, conn: _Connection) -> None:
        try:
            with conn.scope:
                async with self._connect() as client:
                    conn.client = client
                    self.connect_count += 1
                    conn.settled.set()
                    await conn.stop.wait()
        except Exception as exc:
            # A dead transport surfaces here when the session closes; the next call reconnects.
            conn.error = exc
        finally:
            conn.client = None
            conn.settled.set()
            conn.done.set()
            self._live.discard(conn)

    def _drop(self, conn: _Connection, failure: CallFailure) -> None:
        # Said under the server's own name, beside its stderr lines: it stopped answering.
        logging.getLogger(f"maya.payments.server.{self.server_name}").warning(
            "MCP server %s stopped answering: %s", self.server_name, failure.summary[:200]
        )
        conn.stop.set()
        self._forget(conn)
        now = self._clock()
        self._losses = [t for t in self._losses if now - t < self.retry_after] + [now]
        if len(self._losses) >= _LOSSES_TO_TRIP:
            # A server that dies on every call is not respawned for every poll.
            self._trip(f"the session was lost {len(self._losses)} times")
            self._losses = []
        self._connection_failed()

    def _forget(self, conn: _Connection) -> None:
        if self._current is conn:
            self._current = None

    def _connection_failed(self) -> None:
        if self._on_connection_error is not None:
            self._on_connection_error()


async def _list_tools(client: Client) -> tuple[ToolInfo, ...]:
    tools: list[ToolInfo] = []
    cursor: str | None = None
    for _ in range(_MAX_LIST_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(ToolInfo(tool.name, dict(tool.input_schema or {})) for tool in page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return tuple(tools)


def _classify(exc: Exception, tool: str, time_limit: float) -> CallFailure:
    kind: FailureKind
    if isinstance(exc, CallFailure):
        return exc
    if isinstance(exc, TimeoutError | httpx2.TimeoutException):
        return CallFailure("timeout", f"no answer within {time_limit:.1f}s", tool=tool)
    if isinstance(exc, MCPError):
        if exc.code == CONNECTION_CLOSED or (
            exc.code == INVALID_REQUEST and "session terminated" in str(exc).lower()
        ):
            # An HTTP server that restarted forgets the session: it is lost, not refused.
            kind = "lost"
        elif exc.code == REQUEST_TIMEOUT:
            kind = "timeout"
        elif exc.code == INTERNAL_ERROR:
            kind = "server"
        else:
            kind = "rejected"
        return CallFailure(kind, _describe(exc), tool=tool)
    if isinstance(exc, httpx2.HTTPStatusError):
        # A 5xx from a proxy or the server: it may have acted before failing.
        return CallFailure("server", _describe(exc), tool=tool)
    if isinstance(exc, _LOST_ERRORS):
        return CallFailure("lost", _describe(exc), tool=tool)
    if isinstance(exc, ValidationError):
        return CallFailure("malformed", "the server's answer does not follow MCP", tool=tool)
    if isinstance(exc, BaseExceptionGroup):
        return CallFailure("lost", _describe(exc), tool=tool)
    raise exc


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "unknown error"
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return redact(f"{type(exc).__name__}: {text}"[:300])
