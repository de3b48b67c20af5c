"""``maya mcp``: serve Maya's tools to any MCP client (Claude Desktop, Gemini CLI, Kiro...).

Over stdio (the default), or streamable HTTP at ``/mcp`` with ``--http``/``--host``/
``--port``; off loopback a Bearer token is required. ``_HELP`` is the command's manual.
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import os
import sys
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

import anyio
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from maya.addresses import add_http_transport, announce, http_address, is_loopback_host
from maya.bar import DEFAULT_TOOLS
from maya.bar.menu import bar_messages, load_menu
from maya.mcp_server.server import TAB_HANDLE_PURPOSE, TabPolicy, build_mcp_server
from maya.otel.propagation import configure_tracing_from_env
from maya.payments import CHAT_STATUS_BOUNDS, open_stripe_client, sandbox_notice
from maya.sandbox.server import bind_socket
from maya.signing import Signer, load_server_secret
from maya.state.catalog import Catalog
from maya.state.errors import StateError
from maya.state.manager import TabManager, validate_session_id
from maya.state.open import open_usable_store
from maya.tools import Toolset
from maya.tools.catalog import CATALOG_TOOLS, ToolSpec

__all__ = ["TOKEN_ENV", "BearerAuth", "register", "run_mcp", "serve"]

_HELP = """\
Serve Maya's tools to any MCP client (Claude Desktop, Gemini CLI, Kiro...).

maya mcp                            stdio: the client spawns it and gets a tab of its own
                                    (or the one --session ID names)
maya mcp --http                     streamable HTTP at http://127.0.0.1:PORT/mcp, any free port
maya mcp --host H --port P          the same on H:P (--host/--port imply --http); port 0
                                    picks a free port; the bound address is announced on
                                    stderr as "maya mcp: serving at http://HOST:PORT/mcp"
maya mcp --http HOST:PORT           the old spelling of --host HOST --port PORT (deprecated)

Tabs live in the state store (--store, default $MAYA_STATE_URL or SQLite); payment links
go to the Stripe MCP server of mcp.json, or the offline sandbox when none is configured
(said once at start; --require-stripe or MAYA_REQUIRE_STRIPE=1 refuses it). --catalog
FILE sells an integrator's catalog (YAML or JSON) with neutral words and instructions;
--tools picks the tools; --instructions FILE sends the application's own instructions.
With OTEL_TRACES_EXPORTER (or an OTLP endpoint) set, each call's span is exported, as a
child of the caller's span when the request carries a trace context.

Over HTTP on loopback, a request whose Host is not a loopback name is refused (421: no
DNS-rebinding page can drive it). On any other address the server refuses to start
without an auth token (--token or $MAYA_MCP_TOKEN, at least 16 characters): every
request must then carry "Authorization: Bearer TOKEN" (compared in constant time; 401
otherwise). A token given on loopback is required there too.
"""

TOKEN_ENV = "MAYA_MCP_TOKEN"
"""The auth token ``maya mcp --http`` requires as ``Authorization: Bearer ...``."""
_MIN_TOKEN_CHARS = 16


class BearerAuth:
    """Lets through only HTTP requests carrying ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        """Wrap ``app``; ``token`` is compared in constant time."""
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse (401) an HTTP request without the token."""
        if scope["type"] == "http":
            given = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not hmac.compare_digest(given, self._expected):
                body = json.dumps({"error": "a Bearer token is required"}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="maya"'),
                            (b"x-content-type-options", b"nosniff"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _bound_url(host: str, port: int) -> str:
    """The URL of the address actually bound (``0.0.0.0`` stays ``0.0.0.0``)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/mcp"


def _announce(stream: TextIO | None, text: str) -> None:
    announce(stream, "maya mcp", text)


def pick_tools(
    names: Sequence[str] | None, offered: Sequence[ToolSpec[Any]]
) -> list[ToolSpec[Any]]:
    """The tools ``names`` picks from ``offered``, in ``offered``'s order (all when None).

    Raises:
        ValueError: a name is not offered (the message lists what is).
    """
    if names is None:
        return list(offered)
    by_name = {spec.name: spec for spec in offered}
    unknown = [name for name in names if name not in by_name]
    if unknown or not names:
        raise ValueError(
            f"unknown tool(s) {', '.join(unknown) or '(none given)'}; "
            f"the tools are {', '.join(by_name)}"
        )
    return [spec for spec in offered if spec.name in names]


def _bar_instructions() -> str:
    return (resources.files("maya") / "prompts" / "mcp_instructions.md").read_text("utf-8").strip()


async def serve(
    *,
    http: tuple[str, int] | None = None,
    session_id: str | None = None,
    store_url: str | None = None,
    announce: TextIO | None = None,
    catalog: Catalog | None = None,
    tools: Sequence[str] | None = None,
    instructions: str | None = None,
    require_stripe: bool | None = None,
    token: str | None = None,
) -> None:
    """Serve until stdin closes (stdio) or the process is interrupted (HTTP).

    Args:
        http: serve streamable HTTP on this address instead of stdio.
        session_id: put every call on this one tab.
        store_url: the state store.
        announce: where the address and the sandbox notice are written.
        catalog: sell this catalog (neutral words and instructions); default: the bar.
        tools: the tools to serve, by name; default: all of the catalog's (or the bar's).
        instructions: the application's instructions; default: the bar's for the bar's
            whole toolset, neutral ones (naming the tools served) otherwise.
        require_stripe: refuse the sandbox (default ``$MAYA_REQUIRE_STRIPE``).

    Raises:
        ValueError: HTTP on a non-loopback address without ``token``, or a short token.
        StoreURLError: the store URL is unusable.
        StoreError: the store cannot be read (``open_usable_store``).
        McpConfigError: ``mcp.json`` is malformed, or a real Stripe is required and
            none is configured.
        LiveModeRefusedError: a live Stripe key without ``MAYA_ALLOW_LIVE=1``.
        ValueError: ``tools`` names a tool that is not offered.
    """
    if http is not None:
        _check_token(http[0], token)
    specs = pick_tools(tools, CATALOG_TOOLS if catalog is not None else DEFAULT_TOOLS)
    # Checked before anything is announced: a bad store is the one line on stderr.
    store = await open_usable_store(store_url)
    shutdown_tracing: Callable[[], None] | None = None
    try:
        notice = sandbox_notice(require_stripe=require_stripe)
        if notice is not None:
            _announce(announce, notice)
        if catalog is None and tools is None and instructions is None:
            # The whole bar: its own instructions. A chosen subset gets neutral ones that
            # name only the tools it serves.
            instructions = _bar_instructions()
        shutdown_tracing = configure_tracing_from_env("maya-mcp")
        manager = TabManager(store, catalog=catalog if catalog is not None else load_menu())
        async with open_stripe_client(
            status_bounds=CHAT_STATUS_BOUNDS, sandbox=True, require_stripe=require_stripe
        ) as stripe:
            toolset = Toolset(
                manager=manager,
                payments=stripe,
                tools=specs,
                messages=bar_messages() if catalog is None else None,
            )
            if http is None:
                tabs = TabPolicy.for_stdio(session_id)
                server = build_mcp_server(toolset, tabs=tabs, instructions=instructions)
                _announce(announce, f"serving over stdio; tab {tabs.fixed or tabs.process_tab}")
                await server.run_stdio_async()
                return
            host, port = http
            signer = Signer(load_server_secret(), purpose=TAB_HANDLE_PURPOSE)
            server = build_mcp_server(
                toolset,
                tabs=TabPolicy(fixed=session_id, signer=signer),
                instructions=instructions,
            )
            sock = bind_socket(host, port)
            # Loopback: the SDK refuses a foreign Host (421). Elsewhere the token guards.
            app: ASGIApp = server.streamable_http_app(host=host)
            if token:
                app = BearerAuth(app, token=token)
            config = uvicorn.Config(
                app, log_config=None, access_log=False, log_level="warning", lifespan="on"
            )
            where = "one tab: " + session_id if session_id else "one tab per MCP session"
            if token:
                where += "; Bearer token required"
            bound_host, bound_port = sock.getsockname()[:2]
            _announce(announce, f"serving at {_bound_url(bound_host, bound_port)} ({where})")
            await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        await store.aclose()
        if shutdown_tracing is not None:
            shutdown_tracing()


def _check_token(host: str, token: str | None) -> None:
    if token is not None and len(token) < _MIN_TOKEN_CHARS:
        raise ValueError(f"the auth token must be at least {_MIN_TOKEN_CHARS} characters")
    if not token and not is_loopback_host(host):
        raise ValueError(
            f"HTTP on {host}, which is not loopback, needs an auth token "
            f"(--token or ${TOKEN_ENV}): anyone who reaches the address could use the tabs"
        )


def run_mcp(args: argparse.Namespace) -> int:
    """``maya mcp``; returns the exit code (2 for a bad argument or a missing token)."""
    if args.session is not None:
        try:
            validate_session_id(args.session)
        except StateError as exc:
            print(f"maya mcp: --session: {exc.message}", file=sys.stderr)
            return 2
    token = args.token or os.environ.get(TOKEN_ENV) or None
    try:
        http = http_address(args, command="maya mcp", port=0)
        if http is not None:
            _check_token(http[0], token)
    except ValueError as exc:
        print(f"maya mcp: {exc}", file=sys.stderr)
        return 2
    catalog = Catalog.from_file(args.catalog) if args.catalog is not None else None
    tools = [n.strip() for n in args.tools.split(",") if n.strip()] if args.tools else None
    try:
        pick_tools(tools, CATALOG_TOOLS if catalog is not None else DEFAULT_TOOLS)
    except ValueError as exc:
        print(f"maya mcp: --tools: {exc}", file=sys.stderr)
        return 2
    instructions = None
    if args.instructions is not None:
        instructions = Path(args.instructions).read_text(encoding="utf-8").strip()
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(
            lambda: serve(
                http=http,
                session_id=args.session,
                store_url=args.store,
                catalog=catalog,
                tools=tools,
                instructions=instructions,
                require_stripe=True if args.require_stripe else None,
                token=token,
            )
        )
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``mcp`` to the ``maya`` command."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve Maya's tools over MCP (stdio, or streamable HTTP with --http)",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_http_transport(
        parser,
        what="the tools at /mcp",
        port=0,
        port_help="0: any free port, the bound URL is announced on stderr",
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
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        metavar="FILE",
        help="sell this catalog (YAML or JSON: merchant, currency, items) with neutral words",
    )
    parser.add_argument(
        "--tools",
        default=None,
        metavar="NAME,NAME",
        help="serve only these tools (e.g. create_stripe_payment,check_payment_status)",
    )
    parser.add_argument(
        "--instructions",
        type=Path,
        default=None,
        metavar="FILE",
        help="the instructions MCP clients are sent (default: neutral with --catalog)",
    )
    parser.add_argument(
        "--require-stripe",
        action="store_true",
        help="refuse to start without a real Stripe MCP server (as MAYA_REQUIRE_STRIPE=1)",
    )
    parser.add_argument(
        "--token",
        default=None,
        metavar="TOKEN",
        help="over HTTP: require 'Authorization: Bearer TOKEN' (needed off loopback; "
        f"default ${TOKEN_ENV})",
    )
    parser.set_defaults(func=run_mcp)
