"""``maya serve``: the webhook endpoint (and the web chat) on one ASGI server.

``maya serve [--host 127.0.0.1] [--port 8000] [--store URL] [--workers N]`` runs
``create_app`` on uvicorn (N worker processes on one socket with ``--workers``, see
``maya.server.workers``): ``POST /stripe/webhook``, ``GET /healthz`` and the routes mounted by
``extra_routes``. Tabs live in ``--store`` (default ``$MAYA_STATE_URL``, else SQLite;
PostgreSQL for several workers). It binds 127.0.0.1 unless told otherwise; port 0 picks
a free port, and the bound address is printed on stdout as
``maya serve: listening on http://HOST:PORT``. Each request is logged as one line on
stderr (method, path, status, milliseconds; for the webhook, the event's id and outcome
or why it was refused); never a body, a header or a secret. SIGINT and SIGTERM stop it cleanly.

The webhook's signing secret is ``$STRIPE_WEBHOOK_SECRET`` (``whsec_...``). With no
Stripe server configured (no ``mcp.json``), the offline sandbox is started as
``maya demo`` starts it, told to send its events here, signed with that secret or, when
none is set, with one generated for this run: ``maya serve`` alone is the whole offline
flow. With a Stripe server configured, the secret is required.
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
from typing import NoReturn, TextIO

import anyio
import uvicorn

from maya.addresses import http_url
from maya.payments import CHAT_STATUS_BOUNDS, load_server_config, open_stripe_client
from maya.payments.config import SANDBOX_SERVER_NAME
from maya.sandbox.server import bind_socket
from maya.server.context import RouteFactory, ServeContext, extra_routes
from maya.state.manager import TabManager
from maya.state.open import open_store

__all__ = [
    "SANDBOX_WEBHOOK_SECRET_ENV",
    "SANDBOX_WEBHOOK_URL_ENV",
    "RouteFactory",
    "ServeContext",
    "register",
    "run_serve",
    "serve",
]

SANDBOX_WEBHOOK_URL_ENV = "MAYA_SANDBOX_WEBHOOK_URL"
"""Where the sandbox sends its events (``maya sandbox --webhook-url``)."""
SANDBOX_WEBHOOK_SECRET_ENV = "MAYA_SANDBOX_WEBHOOK_SECRET"
"""The secret the sandbox signs its events with (``maya sandbox --webhook-secret``)."""


def _announce(stream: TextIO, text: str) -> None:
    stream.write(f"maya serve: {text}\n")
    stream.flush()


def _webhook_plan(environ: Mapping[str, str], base_url: str) -> tuple[dict[str, str], str, bool]:
    """The environment for the Stripe client, the webhook secret, and whether offline.

    Raises:
        McpConfigError: ``mcp.json`` is malformed.
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
    announce: TextIO = sys.stdout,
) -> None:
    """Serve until SIGINT or SIGTERM.

    Raises:
        StoreURLError: the store URL is unusable.
        McpConfigError: ``mcp.json`` is malformed.
        WebhookSecretError: the signing secret is missing (Stripe configured) or malformed.
        LiveModeRefusedError: a live Stripe key without ``MAYA_ALLOW_LIVE=1``.
        OSError: the address cannot be bound.
    """
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
        store = open_store(store_url if store_url is not None else env.get("MAYA_STATE_URL"))
        try:
            manager = TabManager(store)
            async with open_stripe_client(
                environ=env, status_bounds=CHAT_STATUS_BOUNDS
            ) as stripe_client:
                if offline and not await stripe_client.is_available():
                    # Still serve: events and the health check do not need it.
                    _announce(announce, "the offline sandbox did not start; payments unavailable")
                context = ServeContext(manager=manager, payments=stripe_client, base_url=base_url)
                routes = [route for factory in extra_routes for route in factory(context)]
                stopping = anyio.Event()
                app = create_app(
                    manager,
                    webhook_secret=secret,
                    routes=routes,
                    lifespan=stopping_lifespan(stopping),
                )
                app.state.context = context
                config = uvicorn.Config(
                    app,
                    log_config=None,
                    access_log=False,
                    log_level="warning",
                    lifespan="on",
                    timeout_graceful_shutdown=5,
                )
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


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``_stop_on_signal`` asks it to stop, and
    ``serve`` then closes the Stripe client and the store and returns (exit status 0),
    instead of uvicorn raising the signal again once it has stopped. Its shutdown first
    sets ``stopping``, so open event streams end instead of holding the graceful wait."""

    def __init__(self, config: uvicorn.Config, stopping: anyio.Event) -> None:
        super().__init__(config)
        self._stopping = stopping

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stopping.set()
        await super().shutdown(sockets)


async def _stop_on_signal(server: uvicorn.Server, announce: TextIO) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            _announce(announce, f"stopping (signal {signum})")
            server.should_exit = True


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535, not {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"workers is 1-64, not {text!r}")
    return int(text)


def run_serve(args: argparse.Namespace) -> int:
    """``maya serve``; returns the exit code."""
    # A server's request lines are its record: shown by default (-v is for the rest).
    server_log = logging.getLogger("maya.server")
    server_log.setLevel(min(logging.INFO, logging.getLogger().getEffectiveLevel()))
    if args.workers > 1:
        from maya.server.workers import serve_workers

        _leave(
            serve_workers(
                host=args.host, port=args.port, workers=args.workers, store_url=args.store
            )
        )
    extra = extra_routes()
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(
            lambda: serve(host=args.host, port=args.port, store_url=args.store, extra_routes=extra)
        )
    _leave(0)


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
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=8000, help="port (default 8000; 0: any free port)"
    )
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
    parser.set_defaults(func=run_serve)
