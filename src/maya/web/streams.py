"""Server-sent events: a chat turn as it happens (``TurnStream``), and the tab as it
changes (``TabStream``, bounded in time, ended at once when the server stops).
"""

from __future__ import annotations

import asyncio
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

__all__ = [
    "SSE_HEADERS",
    "STOPPING",
    "TURN_LINGER_S",
    "TabStream",
    "TurnStream",
    "sse_event",
    "stopping_lifespan",
]

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


def _headers(*, streamed: bool) -> list[tuple[bytes, bytes]]:
    headers: dict[str, str] = {"Content-Type": "text/event-stream; charset=utf-8"}
    if streamed:
        headers["X-Accel-Buffering"] = "no"  # a proxy passes each event on as it comes
    secure_headers(headers)
    return [(k.lower().encode(), v.encode()) for k, v in headers.items()]


SSE_HEADERS = _headers(streamed=True)
"""The headers of an event stream sent as it happens."""
_WHOLE_SSE_HEADERS = _headers(streamed=False)
"""Those of one sent whole: a ``Content-Length`` is added."""


class _Sender:
    """Sends body chunks until the browser leaves; after that, sends nothing.

    The response starts with ``start`` (the tab stream: headers at once), or else with
    the first chunk, streamed, or with the end: a response that is all there by then is
    sent whole, with its length (no chunked framing, one write fewer).
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self.open = True
        self._started = False

    async def start(self) -> None:
        self._started = True
        await self._send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})

    async def chunk(self, body: bytes) -> None:
        if not self.open:
            return
        try:
            if not self._started:
                await self.start()
            await self._send({"type": "http.response.body", "body": body, "more_body": True})
        except Exception:  # the server's way of saying the client is gone (varies)
            self.open = False

    async def end(self, body: bytes = b"") -> None:
        """Send ``body`` as the response's last chunk (the end of the stream); the whole
        response, with its length, when nothing was sent before."""
        if self.open:
            self.open = False
            try:
                if not self._started:
                    self._started = True
                    length = (b"content-length", str(len(body)).encode())
                    await self._send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [*_WHOLE_SSE_HEADERS, length],
                        }
                    )
                await self._send({"type": "http.response.body", "body": body, "more_body": False})
            except Exception:  # gone meanwhile: nothing to end
                return


Emit = Callable[[str, Any], Awaitable[None]]


TURN_LINGER_S = 0.02
"""How long a turn's first events wait for more, or for the turn's end, before they leave
(seconds): a turn answered within it is sent whole, one response with its length."""


class TurnStream:
    """An ASGI response running ``run(emit)``, its events sent as one body chunk per write.

    What a turn emits in its first ``linger_s`` waits for the turn's end: a turn answered
    that fast (a model that answers at once, tools that do not wait on the network)
    is sent whole, with its length, as an ordinary response is (no chunked framing), and
    costs one timer, no task. From then on, events leave as soon as ``run`` waits (a slow tool,
    a streamed answer's next chunk), sent by a task of their own; events emitted back to
    back still leave together, and the last ones leave with the end of the response. It
    runs on asyncio (uvicorn's loop).
    """

    def __init__(
        self, run: Callable[[Emit], Awaitable[None]], *, linger_s: float = TURN_LINGER_S
    ) -> None:
        """``run`` is awaited with ``emit(event, data)``; the stream ends when it returns.
        ``linger_s``: how long the first events wait (0: they leave at the first wait)."""
        self._run = run
        self._linger_s = linger_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        sender = _Sender(send)  # the headers go with the first events, or with the end
        batch = _Batch(sender, self._linger_s)
        try:
            await self._run(batch.emit)
        finally:
            # What is left (the reply's last words, "done") leaves with the end, after
            # whatever was being sent.
            try:
                await batch.close()
            finally:
                await sender.end(batch.take())


class _Batch:
    """Emitted events waiting to be sent as one body chunk: from ``linger_s`` after the
    first emit on, by a task sending them whenever the producer waits."""

    def __init__(self, sender: _Sender, linger_s: float) -> None:
        self._sender = sender
        self._linger_s = linger_s
        self._loop = asyncio.get_running_loop()
        self._chunks: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._sending: tuple[asyncio.Task[None], asyncio.Event] | None = None
        """Once sending: its task, and what wakes it (an emit, the end)."""
        self._closed = False

    async def emit(self, event: str, data: Any) -> None:
        self._chunks.append(sse_event(event, data))
        if self._sending is not None:
            self._sending[1].set()
        elif self._timer is None and not self._closed:
            if self._linger_s > 0:
                self._timer = self._loop.call_later(self._linger_s, self._start_sending)
            else:  # no linger: sent as soon as the producer waits
                self._start_sending()

    def _start_sending(self) -> None:
        if not self._closed:
            wake = asyncio.Event()
            self._sending = (self._loop.create_task(self._send_until_closed(wake)), wake)

    async def _send_until_closed(self, wake: asyncio.Event) -> None:
        while not self._closed:
            # Cleared before sending: what is emitted meanwhile wakes the next send.
            wake.clear()
            while self._chunks:
                await self._sender.chunk(self.take())
            await wake.wait()

    async def close(self) -> None:
        """Nothing more is sent before the end: the timer is off, and a send under way
        has finished (the sending task is cancelled if this is)."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        if self._sending is None:
            return
        task, wake = self._sending
        wake.set()
        try:
            await asyncio.shield(task)
        except BaseException:
            task.cancel()
            raise

    def take(self) -> bytes:
        """The events not sent yet, as one body chunk; they are no longer waiting."""
        chunks, self._chunks = self._chunks, []
        return b"".join(chunks)


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
