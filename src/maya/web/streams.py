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


_compact_json = json.JSONEncoder(separators=(",", ":")).encode
"""``json.dumps(data, separators=...)`` without making an encoder per call (a turn sends
a score of events)."""


def sse_event(event: str, data: Any) -> bytes:
    """One server-sent event: ``event: NAME`` and its data as one line of JSON."""
    return f"event: {event}\ndata: {_compact_json(data)}\n\n".encode()


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

    async def end(self, body: bytes = b"") -> None:
        """Send ``body`` as the response's last chunk (the end of the stream)."""
        if self.open:
            self.open = False
            try:
                await self._send({"type": "http.response.body", "body": body, "more_body": False})
            except Exception:  # gone meanwhile: nothing to end
                return


Emit = Callable[[str, Any], Awaitable[None]]


class TurnStream:
    """An ASGI response running ``run(emit)``; each event goes out as soon as ``run`` waits.

    Events emitted back to back (a reply's words, given at once by a model that does not
    stream) leave in one write: one ``send`` through the middleware and one system call,
    not one per word; the last of them leave with the end of the response. Events
    emitted across a wait (a tool call, a streamed answer's next chunk) leave before the
    wait ends.
    """

    def __init__(self, run: Callable[[Emit], Awaitable[None]]) -> None:
        """``run`` is awaited with ``emit(event, data)``; the stream ends when it returns."""
        self._run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender = _Sender(send)
        await sender.start()
        batch = _Batch(sender)
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(batch.drain)
                try:
                    await self._run(batch.emit)
                finally:
                    batch.close()
        finally:
            # What is left (the reply's last words, "done") leaves with the end.
            await sender.end(batch.take())


class _Batch:
    """Emitted events waiting for the producer to pause, then sent as one body chunk."""

    def __init__(self, sender: _Sender) -> None:
        self._sender = sender
        self._chunks: list[bytes] = []
        self._wake = anyio.Event()
        self._closed = False

    async def emit(self, event: str, data: Any) -> None:
        self._chunks.append(sse_event(event, data))
        self._wake.set()

    def close(self) -> None:
        self._closed = True
        self._wake.set()

    def take(self) -> bytes:
        """The events not sent yet, as one body chunk; they are no longer waiting."""
        chunks, self._chunks = self._chunks, []
        return b"".join(chunks)

    async def flush(self) -> None:
        while self._chunks:
            await self._sender.chunk(self.take())

    async def drain(self) -> None:
        while True:
            await self._wake.wait()
            if self._closed:
                return  # what is left leaves with the end of the response
            self._wake = anyio.Event()
            await self.flush()


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
        if scope.get("method") == "HEAD":  # the headers are the whole answer: no stream
            await sender.end()
            return
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
