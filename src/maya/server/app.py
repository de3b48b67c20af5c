"""``create_app``: the one ASGI app ``maya serve`` runs: ``POST /stripe/webhook``, ``GET
/healthz`` and the routes the caller mounts, each request logged as one line (never a
body, a header or a secret), and an unknown path or method answered in JSON as every
other error is.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maya.server.hosts import HostGuard
from maya.server.webhook import (
    MAX_BODY_BYTES,
    TOLERANCE_S,
    LinkCloser,
    check_webhook_secret,
    webhook_endpoint,
)
from maya.state.manager import TabManager

__all__ = ["WEBHOOK_PATH", "AccessLog", "create_app"]

WEBHOOK_PATH = "/stripe/webhook"
"""Where Stripe (or the sandbox) delivers events."""

_log = logging.getLogger("maya.server")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    """``text`` with control characters escaped: a CR/LF in a path cannot forge a line."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class AccessLog:
    """One log line per HTTP request, after it ends: method, path, status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, noting its status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, noted)
        finally:
            state = scope.get("state")
            note = state.get("log_note") if isinstance(state, dict) else None
            _log.info(
                "%s %s %d %.1f ms%s",
                _printable(str(scope.get("method", "?"))),
                _printable(str(scope.get("path", "?"))[:200]),
                status,
                (time.perf_counter() - started) * 1000,
                f" {_printable(str(note))}" if note else "",
            )


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


_HTTP_ERRORS = {404: "no such page or endpoint", 405: "this endpoint does not take that method"}


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (an unknown path 404, a method a route does not take 405)
    as JSON, like every other error of the app, not plain text; their headers (405's
    ``Allow``) kept."""
    assert isinstance(exc, HTTPException)
    message = _HTTP_ERRORS.get(exc.status_code, str(exc.detail))
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=exc.headers)


def create_app(
    manager: TabManager,
    *,
    webhook_secret: str,
    routes: Sequence[BaseRoute] = (),
    lifespan: Any = None,
    tolerance: int = TOLERANCE_S,
    max_body: int = MAX_BODY_BYTES,
    livemode: bool | None = None,
    links: LinkCloser | None = None,
    allowed_hosts: Collection[str] | None = None,
) -> Starlette:
    """The app: the webhook, the health check, and ``routes`` (routes or mounts) after them.

    Args:
        manager: the tabs events are applied to.
        webhook_secret: the endpoint's signing secret (``whsec_...``).
        routes: more routes or ``Mount``s (the web chat), matched after the built-in ones.
        lifespan: a Starlette lifespan for what the extra routes need.
        tolerance: seconds a signature's timestamp may lag (300, as Stripe).
        max_body: the largest webhook body accepted, in bytes.
        livemode: the mode events must be in; None: the mode of ``app.state.context``'s
            Stripe client, else test mode.
        links: what deactivates links a settlement left open; None: that client.
        allowed_hosts: the ``Host`` names answered (others get 421; see
            ``maya.server.hosts``); None answers any Host. Every response is ``nosniff``.

    Raises:
        WebhookSecretError: when ``webhook_secret`` is not a ``whsec_`` secret.
    """
    secret = check_webhook_secret(webhook_secret)
    app = Starlette(
        routes=[
            Route(
                WEBHOOK_PATH,
                webhook_endpoint(
                    manager,
                    secret,
                    tolerance=tolerance,
                    max_body=max_body,
                    livemode=livemode,
                    links=links,
                ),
                methods=["POST"],
            ),
            Route("/healthz", _healthz, methods=["GET"]),
            *routes,
        ],
        middleware=[Middleware(AccessLog), Middleware(HostGuard, allowed_hosts=allowed_hosts)],
        exception_handlers={HTTPException: _http_error},
        lifespan=lifespan,
    )
    app.state.manager = manager
    return app
