"""Assembling and running the sandbox: the MCP server, the checkout pages, the transports.

Over stdio the checkout pages get their own port (announced on stderr); over HTTP one
ASGI app serves MCP at ``/mcp`` and the checkout pages at ``/b/...``.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TextIO, cast

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import Tool
from starlette.applications import Starlette
from starlette.requests import Request

from maya import __version__
from maya.addresses import announce, http_url
from maya.sandbox.calls import LIST_TOOLS, CallCounts
from maya.sandbox.checkout import build_checkout_app, build_checkout_routes
from maya.sandbox.faults import FaultConfig, FaultInjector
from maya.sandbox.generic import generic_tools
from maya.sandbox.hosted import DEFAULT_ACCOUNTS, SandboxAccount, hosted_tools
from maya.sandbox.named import named_tools
from maya.sandbox.store import MEMORY, SandboxStore
from maya.sandbox.webhooks import WebhookSender

__all__ = [
    "Dialect",
    "bind_checkout_socket",
    "bind_socket",
    "build_http_app",
    "build_mcp_server",
    "serve_http",
    "serve_stdio",
]

Dialect = Literal["hosted", "generic", "named"]
"""Which of Stripe's MCP tool sets the sandbox serves: today's hosted surface (default),
the older generic one without account context, or the named tools of ``@stripe/mcp`` 0.2."""

_INSTRUCTIONS = (
    "An offline stand-in for Stripe's MCP server, in test mode. Payment links open a local "
    "checkout page where test cards pay (4242 4242 4242 4242) or are declined."
)


class _CountingServer(MCPServer[Any]):
    """An MCP server that counts ``tools/list`` requests (tool calls count in the tools)."""

    def __init__(self, counts: CallCounts, **options: Any) -> None:
        super().__init__(**options)
        self._counts = counts

    async def list_tools(self) -> list[Tool]:
        self._counts.record(LIST_TOOLS)
        return await super().list_tools()


def build_mcp_server(
    store: SandboxStore,
    *,
    dialect: Dialect = "hosted",
    faults: FaultConfig | None = None,
    checkout_base_url: str,
    crash: Callable[[], None] | None = None,
    accounts: Sequence[SandboxAccount] = DEFAULT_ACCOUNTS,
    counts: CallCounts | None = None,
) -> MCPServer[Any]:
    """An MCP server speaking one of Stripe's dialects over ``store``.

    Args:
        store: Where the objects live.
        dialect: ``hosted`` (today's surface: the operation tools with required
            ``stripe_context``/``livemode``, ``list_available_accounts_or_orgs``, text
            errors), ``generic`` (``stripe_api_write``/``stripe_api_read`` without
            context, Stripe's JSON error bodies) or ``named``
            (``create_product``/``create_price``/``create_payment_link``).
        faults: Faults to inject; none by default. Calls are counted per server.
        checkout_base_url: Where the checkout pages are served, e.g.
            ``http://127.0.0.1:8123``; payment link URLs start with it.
        crash: Replaces ending the process when ``crash_after`` is reached (tests).
        accounts: The accounts the hosted dialect offers.
        counts: Where the requests that reach the server are counted, per tool and
            operation (tests read it; several servers may share one).

    Returns:
        The server; connect in memory with ``mcp.Client(server)``.
    """
    config = faults or FaultConfig()
    counts = counts if counts is not None else CallCounts()
    injector = (
        FaultInjector(config, counts=counts)
        if crash is None
        else FaultInjector(config, crash=crash, counts=counts)
    )
    if dialect == "hosted":
        tools = hosted_tools(
            store, faults=injector, checkout_base_url=checkout_base_url, accounts=accounts
        )
    else:
        build = generic_tools if dialect == "generic" else named_tools
        tools = build(store, faults=injector, checkout_base_url=checkout_base_url)
    return _CountingServer(
        counts,
        name="maya-stripe-sandbox",
        instructions=_INSTRUCTIONS,
        version=__version__,
        tools=tools,
        log_level="WARNING",
    )


def build_http_app(
    store: SandboxStore,
    *,
    dialect: Dialect = "hosted",
    faults: FaultConfig | None = None,
    checkout_base_url: str,
    host: str = "127.0.0.1",
    accounts: Sequence[SandboxAccount] = DEFAULT_ACCOUNTS,
    webhooks: WebhookSender | None = None,
) -> Starlette:
    """One ASGI app: MCP (streamable HTTP) at ``/mcp``, checkout pages at ``/b/...``.

    Args:
        store: Where the objects live.
        dialect: See ``build_mcp_server``.
        faults: See ``build_mcp_server``.
        checkout_base_url: This app's own base URL, as clients reach it.
        host: The interface served; loopback hosts get DNS rebinding protection.
        accounts: See ``build_mcp_server``.
        webhooks: Where checkout outcomes are sent as Stripe events (none by default).
    """
    server = build_mcp_server(
        store,
        dialect=dialect,
        faults=faults,
        checkout_base_url=checkout_base_url,
        accounts=accounts,
    )
    for route in build_checkout_routes(store, webhooks=webhooks):
        endpoint = cast(Callable[[Request], Any], route.endpoint)
        server.custom_route(route.path, methods=sorted(route.methods or ()))(endpoint)
    return server.streamable_http_app(host=host)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket before the server starts, so port 0 resolves early.

    Knowing the real port before serving is what lets payment link URLs carry it.

    Raises:
        OSError: the address is taken or unavailable; its message names it ("cannot
            listen on 127.0.0.1:8000: Address already in use").
    """
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OSError(exc.errno, f"cannot listen on {where}: no such address") from None
    family, kind, proto, _, address = found[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {where}: {exc.strerror}") from None
    return sock


def bind_checkout_socket(store: SandboxStore, host: str, port: int) -> socket.socket:
    """Bind the checkout pages' socket; port 0 means "where this database was served last".

    Payment links carry the checkout address, and a tab keeps its link across restarts:
    a sandbox that came back on another port would leave every link it made dead. So an
    automatic port (0) is first the ports this database's links were served on (most
    recent first) and only then any free port. The port bound is remembered.

    Raises:
        OSError: an explicit port is taken or unavailable.
    """
    if port == 0 and store.path != MEMORY:
        for remembered in store.remembered_ports():
            try:
                sock = _listening(host, remembered)
            except OSError:
                continue  # taken (another sandbox on this database, or another program)
            store.remember_port(remembered)
            return sock
    sock = _listening(host, port)
    if store.path != MEMORY:
        store.remember_port(sock.getsockname()[1])
    return sock


def _listening(host: str, port: int) -> socket.socket:
    # Listening at once: Linux lets two SO_REUSEADDR sockets bind one port while neither
    # listens, and two sandboxes on one database must not both take a remembered port.
    sock = bind_socket(host, port)
    try:
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def base_url(sock: socket.socket, host: str) -> str:
    """The URL clients use to reach ``sock``; wildcard hosts are reached via loopback."""
    return http_url(host, sock.getsockname()[1])


class _NoSignalServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the sandbox (stdio mode)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would swallow Ctrl+C to stop only itself, leaving MCP running.
        yield


def _uvicorn(
    app: Starlette, *, lifespan: Literal["on", "off"], handle_signals: bool = True
) -> uvicorn.Server:
    # log_config=None and no access log: uvicorn's default config prints access lines
    # to stdout, which in stdio mode is the MCP channel.
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        log_level="warning",
        lifespan=lifespan,
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config) if handle_signals else _NoSignalServer(config)


def _announce(stream: TextIO | None, text: str) -> None:
    announce(stream, "maya sandbox", text)


async def serve_stdio(
    store: SandboxStore,
    *,
    dialect: Dialect = "hosted",
    faults: FaultConfig | None = None,
    checkout_port: int = 0,
    announce: TextIO | None = None,
    accounts: Sequence[SandboxAccount] = DEFAULT_ACCOUNTS,
    webhooks: WebhookSender | None = None,
) -> None:
    """Serve MCP over stdin/stdout and the checkout pages on ``127.0.0.1:checkout_port``.

    Returns when the client closes stdin. The checkout base URL is written to
    ``announce`` (stderr) as ``maya sandbox: checkout pages at http://127.0.0.1:PORT``.
    ``checkout_port`` 0 re-binds the port this database was served on last, when free
    (``bind_checkout_socket``), so links made before a restart still open.
    """
    sock = bind_checkout_socket(store, "127.0.0.1", checkout_port)
    checkout_base_url = base_url(sock, "127.0.0.1")
    server = build_mcp_server(
        store,
        dialect=dialect,
        faults=faults,
        checkout_base_url=checkout_base_url,
        accounts=accounts,
    )
    checkout = _uvicorn(
        build_checkout_app(store, webhooks=webhooks), lifespan="off", handle_signals=False
    )
    _announce(announce, f"{dialect} dialect over stdio; checkout pages at {checkout_base_url}")
    async with anyio.create_task_group() as tg:

        async def run_checkout() -> None:
            await checkout.serve(sockets=[sock])
            # The checkout server only stops on its own for a signal: stop MCP too.
            tg.cancel_scope.cancel()

        async def stop_on_signal() -> None:
            # The MCP stdin reader blocks in a thread that cancellation cannot interrupt,
            # so a signal ends the process outright. Safe: every write to the store is
            # already a committed SQLite transaction.
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for signum in signals:
                    _announce(announce, f"stopped by signal {signum}")
                    os._exit(128 + signum)

        tg.start_soon(run_checkout)
        tg.start_soon(stop_on_signal)
        await server.run_stdio_async()
        checkout.should_exit = True
        tg.cancel_scope.cancel()


async def serve_http(
    store: SandboxStore,
    *,
    dialect: Dialect = "hosted",
    faults: FaultConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    announce: TextIO | None = None,
    accounts: Sequence[SandboxAccount] = DEFAULT_ACCOUNTS,
    webhooks: WebhookSender | None = None,
) -> None:
    """Serve MCP at ``/mcp`` and the checkout pages at ``/b/...`` on ``host:port``.

    Runs until interrupted. Announces
    ``maya sandbox: ... MCP at http://HOST:PORT/mcp; checkout pages at http://HOST:PORT``.
    ``port`` 0 re-binds the port this database was served on last, when free.
    """
    sock = bind_checkout_socket(store, host, port)
    url = base_url(sock, host)
    app = build_http_app(
        store,
        dialect=dialect,
        faults=faults,
        checkout_base_url=url,
        host=host,
        accounts=accounts,
        webhooks=webhooks,
    )
    _announce(announce, f"{dialect} dialect; MCP at {url}/mcp; checkout pages at {url}")
    await _uvicorn(app, lifespan="on").serve(sockets=[sock])
