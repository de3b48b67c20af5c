"""Connection hygiene for ``maya serve``: a header deadline and a cap on open connections.

``ConnectionLimits.config(app, ...)`` is a ``uvicorn.Config`` whose h11 protocol closes a
connection slow to send its headers, and makes room past ``max_connections``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ConnectionLimits", "GuardedH11Protocol"]

_log = logging.getLogger("maya.server")
# Carried on the uvicorn.Config: it reaches spawned workers with it (a class made per
# config could not be pickled for them).
_CONFIG_ATTRIBUTE = "maya_connection_limits"


@dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    """How long and how many connections ``maya serve`` keeps.

    Attributes:
        header_timeout_s: the longest a connection may take to send a request's headers.
        keep_alive_s: how long an idle kept-alive connection stays open after a response.
        max_connections: connections open at once (below the process's file limit).
    """

    header_timeout_s: float = 10.0
    keep_alive_s: int = 5
    max_connections: int = 900

    def config(self, app: Any, **options: Any) -> uvicorn.Config:
        """A ``uvicorn.Config`` for ``app`` (and ``options``) applying these limits."""
        config = uvicorn.Config(
            app, http=GuardedH11Protocol, timeout_keep_alive=self.keep_alive_s, **options
        )
        setattr(config, _CONFIG_ATTRIBUTE, self)
        return config


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a connection cap (see above)."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        """As uvicorn's; the limits come from ``config`` (``ConnectionLimits.config``)."""
        super().__init__(config, *args, **kwargs)
        found = getattr(config, _CONFIG_ATTRIBUTE, None)
        self.limits = found if isinstance(found, ConnectionLimits) else ConnectionLimits()
        self._header_timer: asyncio.TimerHandle | None = None
        self.waiting_since: float | None = None
        self.served = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()
        self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.waiting_since is not None and self.conn.their_state is not h11.IDLE:
            self._stop_waiting()  # the headers are in: a request is under way

    def on_response_complete(self) -> None:
        self.served = True
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()

    def send_400_response(self, msg: str) -> None:
        """As uvicorn's, unless a response already went out: then only close.

        A client still sending a body after its 413 makes h11 see a protocol error, and
        uvicorn's own 400 would then raise inside the event loop.
        """
        if self.conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            self.transport.close()
            return
        super().send_400_response(msg)

    def _await_headers(self) -> None:
        self._stop_waiting()
        self.waiting_since = self.loop.time()
        self._header_timer = self.loop.call_later(
            self.limits.header_timeout_s, self._headers_too_slow
        )

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self.waiting_since = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.waiting_since is not None:
            _log.debug("closing a connection that sent no request headers in time")
            self.close_idle()

    def close_idle(self) -> None:
        """Close a connection that has no request under way."""
        self.waiting_since = None
        if not self.transport.is_closing():
            with contextlib.suppress(h11.LocalProtocolError):  # mid-message: just close
                self.conn.send(h11.ConnectionClosed())
            self.transport.close()

    def _make_room(self) -> None:
        if len(self.connections) <= self.limits.max_connections:
            return
        idle = [
            other
            for other in self.connections
            if other is not self
            and isinstance(other, GuardedH11Protocol)
            and other.waiting_since is not None
            and not other.transport.is_closing()
        ]
        if idle:
            oldest = min(idle, key=lambda other: (other.served, other.waiting_since or 0.0))
            _log.info("connection cap reached: closing the connection idle longest")
            oldest.close_idle()
        else:
            _log.warning("connection cap reached and every connection busy: refusing one")
            self.close_idle()
