"""Server-sent events: a chat turn as it happens (``TurnStream``), and the tab as it
changes (``TabStream``, bounded in time, ended at once when the server stops).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from starlette.types import Message, Receive, Scope, Send

from maya.state.errors import StoreError
from maya.state.manager import TabManager
from maya.web.security import secure_headers
from maya.web.views import tab_view

__all__ = ["SSE_HEADERS", "STOPPING", "TabStream", "TurnStream", "sse_event", "stopping_lifespan"]

_log = logging.getLogger("maya.web")


STOPPING = "maya.stopping"
"""The key, in the app's lifespan state, of the ``anyio.Event`` set when the server stops."""


def stopping_lifespan(
    stopping: anyio.Event,
) -> Callable[[Any], AbstractAsyncContextManager[dict[str, Any]]]:
    """A Starlette lifespan handing ``stopping`` to every request (``scope["state"]``)."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[dict[str, Any]]:
        yield {STOPPING: stopping}

    return lifespan


def _stopping_of(scope: Scope) -> anyio.Event | None:
    state = scope.get("state")
    found = state.get(STOPPING) if isinstance(state, dict) else None
    return found if isinstance(found, anyio.Event) else None


def sse_event(event: str, data: Any) -> bytes:
    """One server-sent event: ``event: NAME`` and its data as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _headers() -> list[tuple[bytes, bytes]]:
    headers: dict[str, str] = {
        "Content-Type": "text/event-stream; charset=utf-8",
        "X-Accel-Buffering": "no",
    }
    secure_headers(headers)
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


SSE_HEADERS = _headers()


class _Sender:
    """Sends body chunks until the browser leaves; after that, sends nothing."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.open = True

    async def start(self) -> None:
        await self._send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})

    async def chunk(self, body: bytes) -> None:
        if not self.open:
            return
        try:
            await self._send({"type": "http.response.body", "body": body, "more_body": True})
        except Exception:  # the server's way of saying the client is gone (varies)
            self.open = False

    async def end(self) -> None:
        if self.open:
            self.open = False
            try:
                await self._send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:  # gone meanwhile: nothing to end
                return


Emit = Callable[[str, Any], Awaitable[None]]


class TurnStream:
    """An ASGI response running ``run(emit)`` and sending each emitted event at once."""

    def __init__(self, run: Callable[[Emit], Awaitable[None]]) -> None:
        """``run`` is awaited with ``emit(event, data)``; the stream ends when it returns."""
        self._run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender = _Sender(send)
        await sender.start()

        async def emit(event: str, data: Any) -> None:
            await sender.chunk(sse_event(event, data))

        try:
            await self._run(emit)
        finally:
            await sender.end()


class TabStream:
    """An ASGI response sending a session's tab now and after every committed change."""

    def __init__(
        self,
        manager: TabManager,
        session_id: str,
        *,
        hosts: Collection[str],
        heartbeat_s: float,
        max_s: float,
    ) -> None:
        """Watch ``session_id`` through ``manager`` for at most ``max_s`` seconds."""
        self._manager = manager
        self._session_id = session_id
        self._hosts = hosts
        self._heartbeat_s = heartbeat_s
        self._max_s = max_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender = _Sender(send)
        await sender.start()
        async with anyio.create_task_group() as group:

            async def until_disconnect() -> None:
                while True:
                    message: Message = await receive()
                    if message["type"] == "http.disconnect":
                        sender.open = False
                        group.cancel_scope.cancel()
                        return

            group.start_soon(until_disconnect)
            stopping = _stopping_of(scope)
            if stopping is not None:

                async def until_stopping(event: anyio.Event) -> None:
                    await event.wait()
                    group.cancel_scope.cancel()

                group.start_soon(until_stopping, stopping)
            with anyio.move_on_after(self._max_s):
                try:
                    await self._stream(sender)
                except StoreError as exc:
                    # The page reconnects in a second; the store may be back by then.
                    _log.warning("the tab stream stopped: %s", exc.message)
            group.cancel_scope.cancel()
        await sender.end()

    async def _stream(self, sender: _Sender) -> None:
        # The browser reconnects one second after the stream ends (or breaks).
        await sender.chunk(b"retry: 1000\n\n")
        async with self._manager.watch(self._session_id) as updates:
            while sender.open:
                state = await updates.next_within(self._heartbeat_s)
                if state is None:
                    await sender.chunk(b": keep-alive\n\n")
                else:
                    await sender.chunk(sse_event("tab", tab_view(state, hosts=self._hosts)))
