"""``maya serve --workers N``: the same app in N uvicorn worker processes on one socket.

The parent binds, decides the webhook secret and (offline) starts one shared sandbox;
each worker builds its app from the environment the parent set (``app_from_env``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType
from typing import IO, Any, TextIO

import anyio
import uvicorn
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from maya.bar import load_menu
from maya.payments import CHAT_STATUS_BOUNDS, open_stripe_client
from maya.redact import redact_log_handlers
from maya.sandbox.server import bind_socket
from maya.server.context import OPTIONS_ENV, ServeContext, ServeOptions, extra_routes
from maya.server.heap import freeze_started_heap
from maya.server.hosts import allowed_hosts_for
from maya.signing import load_server_secret
from maya.state.manager import TabManager
from maya.state.open import STATE_URL_ENV, StoreURLError, default_sqlite_path, open_store

__all__ = ["APP_FACTORY", "BASE_URL_ENV", "app_from_env", "serve_workers"]

APP_FACTORY = "maya.server.workers:app_from_env"
"""What each worker imports and calls (uvicorn's ``factory=True``)."""
BASE_URL_ENV = "MAYA_SERVE_BASE_URL"
"""The server's shared address, told to the workers."""

_log = logging.getLogger("maya.server")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def worker_logging() -> None:
    """A worker's logging, set up in the worker (``maya.cli`` does not run there): stderr,
    the process id on each line, the access log at INFO, and no secret (``maya.redact``),
    as in the parent."""
    logging.basicConfig(
        level=os.environ.get("MAYA_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(process)d %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    redact_log_handlers()
    logging.getLogger("maya.server").setLevel(logging.INFO)


def app_from_env() -> Starlette:
    """One worker's app: store, Stripe client and secret from the parent's environment.

    Raises:
        WebhookSecretError: ``STRIPE_WEBHOOK_SECRET`` is missing or malformed.
        StoreURLError: ``MAYA_STATE_URL`` is unusable.
    """
    from maya.server.app import create_app
    from maya.server.webhook import SECRET_ENV
    from maya.web.streams import STOPPING  # the page (and the agent) load in workers only

    worker_logging()
    options = ServeOptions.from_json(os.environ.get(OPTIONS_ENV))
    # The same secret in every worker: the same variable, or the same file.
    server_secret = load_server_secret()
    store = open_store(os.environ.get(STATE_URL_ENV))
    manager = TabManager(store, catalog=load_menu())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        stopping = anyio.Event()
        try:
            async with open_stripe_client(status_bounds=CHAT_STATUS_BOUNDS, sandbox=True) as client:
                context = ServeContext(
                    manager=manager,
                    payments=client,
                    base_url=os.environ.get(BASE_URL_ENV, ""),
                    options=options,
                    secret=server_secret,
                )
                # Before the first request: routes are matched in order, after the webhook.
                for factory in extra_routes():
                    app.router.routes.extend(factory(context))
                app.state.context = context
                freeze_started_heap()
                with _told_when_stopping(stopping):
                    yield {STOPPING: stopping}
        finally:
            await store.aclose()

    return create_app(
        manager,
        webhook_secret=os.environ.get(SECRET_ENV, ""),
        lifespan=lifespan,
        allowed_hosts=allowed_hosts_for(options.host, options.allowed_hosts),
    )


@contextlib.contextmanager
def _told_when_stopping(stopping: anyio.Event) -> Iterator[None]:
    """Set ``stopping`` on SIGINT/SIGTERM, before uvicorn's own handler runs.

    A worker's uvicorn installed its handlers before the lifespan started; they only
    flag the server to stop, which then waits for open connections. Chained in front,
    this ends the open event streams at once (``maya.web.streams``).
    """
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {s: signal.getsignal(s) for s in _STOP_SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stopping.set)
        chained = previous[signum]
        if callable(chained):
            chained(signum, frame)

    for signum in _STOP_SIGNALS:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for number, chained in previous.items():
            signal.signal(number, chained)


def _drain(stream: IO[bytes], name: str) -> None:
    # Keeps the sandbox's stderr pipe from filling (it would block the sandbox).
    for line in stream:
        logging.getLogger(name).debug("%s", line.decode(errors="replace").rstrip())


@contextlib.contextmanager
def _sandbox_over_http(env: Mapping[str, str], folder: Path) -> Iterator[tuple[str, Path]]:
    """Start one sandbox for every worker; yield its MCP URL and an ``mcp.json`` naming it.

    Raises:
        OSError: the sandbox did not start or announce its address.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "maya.sandbox", "--http", "--host", "127.0.0.1", "--port", "0"],
        env=dict(env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        mcp_url = None
        for raw in process.stderr:  # bounded: the sandbox announces first, or exits
            line = raw.decode(errors="replace")
            if "MCP at " in line:
                mcp_url = line.split("MCP at ", 1)[1].split()[0].rstrip(";")
                break
        if mcp_url is None:
            raise OSError("the offline sandbox did not start")
        threading.Thread(target=_drain, args=(process.stderr, "maya.sandbox"), daemon=True).start()
        config = folder / "mcp.json"
        config.write_text(json.dumps({"mcpServers": {"stripe": {"url": mcp_url}}}))
        yield mcp_url, config
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, told of SIGINT/SIGTERM at once (it looks twice a second)."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets)
        for signum in _STOP_SIGNALS:
            signal.signal(signum, self._stop_now)

    def _stop_now(self, signum: int, frame: FrameType | None) -> None:
        self.should_exit.set()


def serve_workers(
    *,
    host: str,
    port: int,
    workers: int,
    store_url: str | None,
    announce: TextIO | None = None,
    options: ServeOptions | None = None,
) -> int:
    """Run ``workers`` processes until SIGINT/SIGTERM; returns the exit code.

    Raises:
        StoreURLError: ``memory://`` (each worker would keep tabs of its own).
        WebhookSecretError: a Stripe server is configured and the secret is missing.
        McpConfigError: ``mcp.json`` is malformed.
        OSError: the address cannot be bound, or the sandbox did not start.
    """
    from maya.addresses import http_url
    from maya.server.command import _announce, _uvicorn_config, _webhook_plan
    from maya.server.webhook import SECRET_ENV

    chosen = options if options is not None else ServeOptions(host=host)
    url = store_url or os.environ.get(STATE_URL_ENV) or str(default_sqlite_path())
    if url.startswith("memory:"):
        raise StoreURLError(
            "several workers need a store they share (postgresql://... or a SQLite file),"
            " not memory://"
        )
    sock = bind_socket(host, port)
    try:
        sock.listen(2048)
        base_url = http_url(host, sock.getsockname()[1])
        env, secret, offline = _webhook_plan(os.environ, base_url)
        load_server_secret(env)  # made once here, before the workers race to make it
        with (
            tempfile.TemporaryDirectory(prefix="maya-serve-") as folder,
            contextlib.ExitStack() as stack,
        ):
            where = f"Stripe events at {base_url}/stripe/webhook"
            if offline:
                mcp_url, mcp_json = stack.enter_context(_sandbox_over_http(env, Path(folder)))
                env["MAYA_MCP_CONFIG"] = str(mcp_json)
                where = f"the sandbox ({mcp_url}) sends its events here"
            # Spawned workers inherit this process's environment.
            os.environ.update(
                {
                    **{k: v for k, v in env.items() if k == "MAYA_MCP_CONFIG"},
                    SECRET_ENV: secret,
                    STATE_URL_ENV: url,
                    BASE_URL_ENV: base_url,
                    OPTIONS_ENV: chosen.to_json(),
                }
            )
            uvicorn_config = _uvicorn_config(chosen, APP_FACTORY, factory=True, workers=workers)
            _announce(announce, f"listening on {base_url} ({workers} workers; {where})")
            _Supervisor(uvicorn_config, sockets=[sock]).run()
    finally:
        sock.close()
    return 0
