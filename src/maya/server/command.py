"""``maya serve``: the webhook endpoint (and the web chat) on one ASGI server.

Offline it starts the sandbox and points its events here: ``maya serve`` alone is the
whole offline flow. ``_HELP`` is the command's manual (``maya serve --help``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NoReturn, TextIO

import anyio
import uvicorn

from maya.addresses import add_host_port, announce, http_url, parse_seconds
from maya.bar import load_menu
from maya.payments import CHAT_STATUS_BOUNDS, load_server_config, open_stripe_client
from maya.payments.config import SANDBOX_SERVER_NAME
from maya.payments.factory import REQUIRE_STRIPE_ENV, sandbox_notice
from maya.sandbox.server import bind_socket
from maya.server.connections import ConnectionLimits
from maya.server.context import RouteFactory, ServeContext, ServeOptions, extra_routes
from maya.server.heap import freeze_started_heap
from maya.server.hosts import allowed_hosts_for
from maya.signing import load_server_secret
from maya.state.manager import TabManager
from maya.state.open import open_usable_store

__all__ = [
    "SANDBOX_WEBHOOK_SECRET_ENV",
    "SANDBOX_WEBHOOK_URL_ENV",
    "RouteFactory",
    "ServeContext",
    "ServeOptions",
    "register",
    "run_serve",
    "serve",
]

_HELP = """\
maya serve: the webhook endpoint (and the web chat) on one ASGI server.

maya serve [--host 127.0.0.1] [--port 8000] [--store URL] [--workers N] runs
create_app on uvicorn (N worker processes on one socket with --workers, see
maya.server.workers): POST /stripe/webhook, GET /healthz and the routes mounted by
extra_routes. Tabs live in --store (default $MAYA_STATE_URL, else SQLite;
PostgreSQL for several workers). It binds 127.0.0.1 unless told otherwise; port 0 picks
a free port, and the bound address is printed on stdout as
maya serve: listening on http://HOST:PORT. Each request is logged as one line on
stderr (method, path, status, milliseconds; for the webhook, the event's id and outcome
or why it was refused); never a body, a header or a secret. SIGINT and SIGTERM stop it cleanly.

In front of hostile clients: only the loopback names (and the bound address) are
answered as Host (--allowed-host NAME adds one; others get 421); a connection
must send its headers within --header-timeout seconds and idles at most
--keep-alive-timeout between requests; at --max-connections the connection idle
longest is closed; cookies are signed with the server's secret ($MAYA_SERVER_SECRET
or a file beside the default store) and, with --secure-cookies or over https,
Secure and __Host- prefixed; chat turns are rate-limited per session and per
client address (--chat-turns-per-session, --chat-turns-per-client, per minute).

The webhook's signing secret is $STRIPE_WEBHOOK_SECRET (whsec_...). With no
Stripe server configured (no mcp.json), the offline sandbox is started as
maya demo starts it, told to send its events here, signed with that secret or, when
none is set, with one generated for this run: maya serve alone is the whole offline
flow. With a Stripe server configured, the secret is required.
"""

SANDBOX_WEBHOOK_URL_ENV = "MAYA_SANDBOX_WEBHOOK_URL"
"""Where the sandbox sends its events (``maya sandbox --webhook-url``)."""
SANDBOX_WEBHOOK_SECRET_ENV = "MAYA_SANDBOX_WEBHOOK_SECRET"
"""The secret the sandbox signs its events with (``maya sandbox --webhook-secret``)."""


def _announce(stream: TextIO | None, text: str) -> None:
    announce(stream, "maya serve", text, stdout=True)


def _webhook_plan(environ: Mapping[str, str], base_url: str) -> tuple[dict[str, str], str, bool]:
    """The environment for the Stripe client, the webhook secret, and whether offline.

    Raises:
        McpConfigError: ``mcp.json`` is malformed, or a real Stripe is required
            (``MAYA_REQUIRE_STRIPE=1``) and none is configured.
        WebhookSecretError: a Stripe server is configured and the secret is missing.
    """
    from maya.server.app import WEBHOOK_PATH
    from maya.server.webhook import SECRET_ENV, check_webhook_secret

    env = dict(environ)
    offline = load_server_config(environ=env).name == SANDBOX_SERVER_NAME
    given = env.get(SECRET_ENV)
    if not offline:
        return env, check_webhook_secret(given), False
    secret = check_webhook_secret(given) if given else "whsec_" + secrets.token_hex(24)
    env[SANDBOX_WEBHOOK_URL_ENV] = base_url + WEBHOOK_PATH
    env[SANDBOX_WEBHOOK_SECRET_ENV] = secret
    return env, secret, True


async def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    store_url: str | None = None,
    extra_routes: Sequence[RouteFactory] = (),
    environ: Mapping[str, str] | None = None,
    announce: TextIO | None = None,
    options: ServeOptions | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM.

    Raises:
        StoreURLError: the store URL is unusable.
        StoreError: the store cannot be read (``open_usable_store``).
        McpConfigError: ``mcp.json`` is malformed.
        WebhookSecretError: the signing secret is missing (Stripe configured) or malformed.
        LiveModeRefusedError: a live Stripe key without ``MAYA_ALLOW_LIVE=1``.
        OSError: the address cannot be bound, or the server secret's file cannot be made.
        ServerSecretError: ``$MAYA_SERVER_SECRET`` is too short.
    """
    chosen = options if options is not None else ServeOptions(host=host)
    # Imported here: stripe's package is heavy, and `maya --help` imports this module.
    from maya.server.app import WEBHOOK_PATH, create_app
    from maya.web.streams import stopping_lifespan

    sock = bind_socket(host, port)
    try:
        # Listening before the address is announced: a client that connects at once
        # waits in the backlog instead of being refused while the app starts.
        sock.listen(2048)
        base_url = http_url(host, sock.getsockname()[1])
        env, secret, offline = _webhook_plan(os.environ if environ is None else environ, base_url)
        store = await open_usable_store(
            store_url if store_url is not None else env.get("MAYA_STATE_URL")
        )
        try:
            notice = sandbox_notice(env)
            if notice is not None:
                _announce(announce, notice)
            server_secret = load_server_secret(env)
            manager = TabManager(store, catalog=load_menu())
            async with open_stripe_client(
                environ=env, status_bounds=CHAT_STATUS_BOUNDS, sandbox=True
            ) as stripe_client:
                if offline and not await stripe_client.is_available():
                    # Still serve: events and the health check do not need it.
                    _announce(announce, "the offline sandbox did not start; payments unavailable")
                context = ServeContext(
                    manager=manager,
                    payments=stripe_client,
                    base_url=base_url,
                    options=chosen,
                    secret=server_secret,
                )
                routes = [route for factory in extra_routes for route in factory(context)]
                stopping = anyio.Event()
                app = create_app(
                    manager,
                    webhook_secret=secret,
                    routes=routes,
                    allowed_hosts=allowed_hosts_for(host, chosen.allowed_hosts),
                    lifespan=stopping_lifespan(stopping),
                )
                app.state.context = context
                config = _uvicorn_config(chosen, app)
                where = (
                    "the sandbox sends its events here"
                    if offline
                    else f"Stripe events at {WEBHOOK_PATH}"
                )
                _announce(announce, f"listening on {base_url} ({where})")
                server = _Server(config, stopping)
                async with anyio.create_task_group() as group:
                    group.start_soon(_stop_on_signal, server, announce)
                    await server.serve(sockets=[sock])
                    group.cancel_scope.cancel()
        finally:
            await store.aclose()
    finally:
        sock.close()


def _uvicorn_config(options: ServeOptions, app: Any, **extra: Any) -> uvicorn.Config:
    """uvicorn for ``maya serve`` (one process or the workers): its connection limits, no
    log config or access log of its own (``AccessLog`` writes the lines), 5 s to stop."""
    limits = ConnectionLimits(
        header_timeout_s=options.header_timeout_s,
        keep_alive_s=options.keep_alive_s,
        max_connections=options.max_connections,
    )
    return limits.config(
        app,
        log_config=None,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        **extra,
    )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``_stop_on_signal`` asks it to stop, and
    ``serve`` then closes the Stripe client and the store and returns (exit status 0),
    instead of uvicorn raising the signal again once it has stopped. Its shutdown first
    sets ``stopping``, so open event streams end instead of holding the graceful wait.
    Once started, the heap it holds is set aside from the collector
    (``freeze_started_heap``)."""

    def __init__(self, config: uvicorn.Config, stopping: anyio.Event) -> None:
        super().__init__(config)
        self._stopping = stopping

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        freeze_started_heap()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stopping.set()
        await super().shutdown(sockets)


async def _stop_on_signal(server: uvicorn.Server, announce: TextIO | None) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            _announce(announce, f"stopping (signal {signum})")
            server.should_exit = True


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"workers is 1-64, not {text!r}")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError(f"a whole number from 1, not {text!r}")
    return int(text)


def options_of(args: argparse.Namespace) -> ServeOptions:
    """The ``ServeOptions`` of ``maya serve``'s command line."""
    return ServeOptions(
        host=args.host,
        allowed_hosts=tuple(args.allowed_host),
        secure_cookies=True if args.secure_cookies else None,
        header_timeout_s=args.header_timeout,
        keep_alive_s=args.keep_alive_timeout,
        max_connections=args.max_connections,
        max_streams_per_session=args.max_streams_per_session,
        chat_turns_per_session=args.chat_turns_per_session,
        chat_turns_per_client=args.chat_turns_per_client,
        max_tool_calls=args.max_tool_calls,
    )


def run_serve(args: argparse.Namespace) -> int:
    """``maya serve``; returns the exit code."""
    options = options_of(args)
    # A server's request lines are its record: shown by default (-v is for the rest).
    server_log = logging.getLogger("maya.server")
    server_log.setLevel(min(logging.INFO, logging.getLogger().getEffectiveLevel()))
    if args.require_stripe:
        os.environ[REQUIRE_STRIPE_ENV] = "1"  # the workers' processes inherit it
    if args.workers > 1:
        from maya.server.workers import serve_workers

        # Refused here, as one process refuses it in serve(), not by each worker alone.
        anyio.run(_check_store, args.store)
        notice = sandbox_notice()  # the workers open the sandbox themselves: said once here
        if notice is not None:
            _announce(sys.stdout, notice)
        _leave(
            serve_workers(
                host=args.host,
                port=args.port,
                workers=args.workers,
                store_url=args.store,
                options=options,
            )
        )
    extra = extra_routes()
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(
            lambda: serve(
                host=args.host,
                port=args.port,
                store_url=args.store,
                extra_routes=extra,
                options=options,
            )
        )
    _leave(0)


async def _check_store(store_url: str | None) -> None:
    """Open the store, read from it and close it (``open_usable_store``).

    Raises:
        StoreURLError: the URL is unusable.
        StoreError: the store cannot be read.
    """
    await (await open_usable_store(store_url)).aclose()


def _leave(code: int) -> NoReturn:
    """Exit now, after a clean stop: the store, the Stripe client, the workers and the
    sandbox are closed by then, and the interpreter's teardown of the libraries loaded
    would only add about half a second to the stop (a stop is due within 2 s)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` to the ``maya`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the Stripe webhook endpoint (and the offline sandbox when unconfigured)",
        description=_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_host_port(parser, port=8000, port_help="0: any free port")
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="state store: memory://, a SQLite path or postgresql://... (default: "
        "$MAYA_STATE_URL or SQLite in the user data dir)",
    )
    parser.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="worker processes on the one socket (default 1); more than one needs a shared "
        "store (PostgreSQL, or a SQLite file)",
    )
    parser.add_argument(
        "--require-stripe",
        action="store_true",
        help="refuse to start without a real Stripe MCP server (as MAYA_REQUIRE_STRIPE=1)",
    )
    guard = parser.add_argument_group("in front of hostile clients")
    guard.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests for this Host name (repeatable; '*': any); default: "
        "the loopback names and the bound address",
    )
    guard.add_argument(
        "--secure-cookies",
        action="store_true",
        help="always mark cookies Secure and __Host- prefixed (behind a TLS proxy); "
        "default: when the request came over https",
    )
    guard.add_argument(
        "--header-timeout",
        type=parse_seconds,
        default=10.0,
        metavar="S",
        help="close a connection that has not sent its request headers in S seconds (default 10)",
    )
    guard.add_argument(
        "--keep-alive-timeout",
        type=_count,
        default=5,
        metavar="S",
        help="close an idle kept-alive connection after S seconds (default 5)",
    )
    guard.add_argument(
        "--max-connections",
        type=_count,
        default=900,
        metavar="N",
        help="connections open at once; past it the one idle longest is closed (default 900)",
    )
    guard.add_argument(
        "--max-streams-per-session",
        type=_count,
        default=None,
        metavar="N",
        help="live tab streams one browser session may hold (default 4)",
    )
    guard.add_argument(
        "--chat-turns-per-session",
        type=_count,
        default=None,
        metavar="N",
        help="chat turns one session may start per minute (default 12)",
    )
    guard.add_argument(
        "--chat-turns-per-client",
        type=_count,
        default=None,
        metavar="N",
        help="chat turns one client address may start per minute (default 60)",
    )
    guard.add_argument(
        "--max-tool-calls",
        type=_count,
        default=None,
        metavar="N",
        help="tool calls one model answer may ask for; past it none runs (default 10)",
    )
    parser.set_defaults(func=run_serve)
