"""``maya mcp``: serve Maya's tools to any MCP client (Claude Desktop, Gemini CLI, Kiro...).

``maya mcp`` serves over stdio: the client spawns it and gets a tab of its own (or the
one ``--session ID`` names). ``maya mcp --http HOST:PORT`` serves streamable HTTP at
``/mcp``; port 0 picks a free port, and the bound address is announced on stderr as
``maya mcp: serving at http://HOST:PORT/mcp``. Tabs live in the state store
(``--store``, default ``$MAYA_STATE_URL`` or SQLite); payment links go to the Stripe MCP
server of ``mcp.json``, or the offline sandbox when none is configured. With
``OTEL_TRACES_EXPORTER`` (or an OTLP endpoint) set, each call's span is exported, as a
child of the caller's span when the request carries a trace context.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TextIO

import anyio
import uvicorn

from maya.addresses import http_url, parse_host_port
from maya.mcp_server.server import TabPolicy, build_mcp_server
from maya.otel.propagation import configure_tracing_from_env
from maya.payments import CHAT_STATUS_BOUNDS, open_stripe_client
from maya.sandbox.server import bind_socket
from maya.state.errors import StateError
from maya.state.manager import TabManager, validate_session_id
from maya.state.open import open_store
from maya.tools import Toolset

__all__ = ["register", "run_mcp", "serve"]


def _announce(stream: TextIO, text: str) -> None:
    stream.write(f"maya mcp: {text}\n")
    stream.flush()


async def serve(
    *,
    http: tuple[str, int] | None = None,
    session_id: str | None = None,
    store_url: str | None = None,
    announce: TextIO = sys.stderr,
) -> None:
    """Serve until stdin closes (stdio) or the process is interrupted (HTTP).

    Raises:
        StoreURLError: the store URL is unusable.
        McpConfigError: ``mcp.json`` is malformed.
        LiveModeRefusedError: a live Stripe key without ``MAYA_ALLOW_LIVE=1``.
    """
    shutdown_tracing = configure_tracing_from_env("maya-mcp")
    store = open_store(store_url)
    try:
        manager = TabManager(store)
        async with open_stripe_client(status_bounds=CHAT_STATUS_BOUNDS) as stripe:
            toolset = Toolset(manager=manager, payments=stripe)
            if http is None:
                tabs = TabPolicy.for_stdio(session_id)
                server = build_mcp_server(toolset, tabs=tabs)
                _announce(announce, f"serving over stdio; tab {tabs.fixed or tabs.process_tab}")
                await server.run_stdio_async()
                return
            host, port = http
            server = build_mcp_server(toolset, tabs=TabPolicy(fixed=session_id))
            sock = bind_socket(host, port)
            app = server.streamable_http_app(host=host)
            config = uvicorn.Config(
                app, log_config=None, access_log=False, log_level="warning", lifespan="on"
            )
            where = "one tab: " + session_id if session_id else "one tab per MCP session"
            _announce(
                announce, f"serving at {http_url(host, sock.getsockname()[1], '/mcp')} ({where})"
            )
            await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        await store.aclose()
        shutdown_tracing()


def run_mcp(args: argparse.Namespace) -> int:
    """``maya mcp``; returns the exit code (2 for a bad session id)."""
    if args.session is not None:
        try:
            validate_session_id(args.session)
        except StateError as exc:
            print(f"maya mcp: --session: {exc.message}", file=sys.stderr)
            return 2
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(lambda: serve(http=args.http, session_id=args.session, store_url=args.store))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mcp`` to the ``maya`` command."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve Maya's tools over MCP (stdio, or streamable HTTP with --http)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        type=parse_host_port,
        default=None,
        help="serve streamable HTTP at /mcp instead of stdio (port 0: any free port)",
    )
    parser.add_argument(
        "--session",
        default=None,
        metavar="ID",
        help="put every call on this one tab (default: a tab per connection)",
    )
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="state store: memory://, a SQLite path or postgresql://... (default: "
        "$MAYA_STATE_URL or SQLite in the user data dir)",
    )
    parser.set_defaults(func=run_mcp)
