"""The ways to open a ``StripeMCPClient`` from configuration.

``open_stripe_client`` reads ``mcp.json`` (or spawns the sandbox); ``open_payment_side``
opens the sandbox as a process, an unreachable server, or none, for demos and tests.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from maya.payments.client import StripeMCPClient
from maya.payments.config import (
    SANDBOX_SERVER_NAME,
    McpServerConfig,
    allow_live_from_env,
    load_server_config,
    sandbox_server_config,
)
from maya.payments.errors import McpConfigError
from maya.payments.settings import CHAT_STATUS_BOUNDS, StatusBounds, Timeouts

__all__ = [
    "ACCOUNT_ENV",
    "CONNECT_TIMEOUT_ENV",
    "LINK_HOSTS_ENV",
    "REQUIRE_STRIPE_ENV",
    "SANDBOX_NOTICE",
    "PaymentSideMode",
    "open_payment_side",
    "open_stripe_client",
    "sandbox_notice",
]

REQUIRE_STRIPE_ENV = "MAYA_REQUIRE_STRIPE"
"""Set to ``1`` to refuse the sandbox: without a real Stripe server nothing starts."""

SANDBOX_NOTICE = (
    "No Stripe MCP server is configured (mcp.json): payments go to the local Stripe "
    "sandbox, test mode only, and no money moves."
)
"""What the CLI commands say once at start when they fall back to the sandbox."""


def _requires_stripe(environ: Mapping[str, str], require_stripe: bool | None) -> bool:
    if require_stripe is not None:
        return require_stripe
    return environ.get(REQUIRE_STRIPE_ENV, "").strip().lower() in ("1", "true", "yes")


def sandbox_notice(
    environ: Mapping[str, str] | None = None,
    *,
    require_stripe: bool | None = None,
    cwd: Path | None = None,
) -> str | None:
    """For a CLI command at start: ``SANDBOX_NOTICE`` when nothing is configured and the
    sandbox will be used, else None.

    Raises:
        McpConfigError: ``mcp.json`` is malformed, or the sandbox would be used while a
            real Stripe is required (``MAYA_REQUIRE_STRIPE=1`` or ``require_stripe``).
    """
    env = os.environ if environ is None else environ
    if load_server_config(environ=env, cwd=cwd).name != SANDBOX_SERVER_NAME:
        return None
    if _requires_stripe(env, require_stripe):
        raise McpConfigError(_REFUSED)
    return SANDBOX_NOTICE


_REFUSED = (
    f"a real Stripe MCP server is required ({REQUIRE_STRIPE_ENV}=1 or --require-stripe) "
    "but none is configured: add it to mcp.json (see mcp.json.example)"
)

CONNECT_TIMEOUT_ENV = "MAYA_MCP_CONNECT_TIMEOUT"
"""Seconds a server may take to start and answer ``initialize`` (default 30: a cold ``npx``)."""

ACCOUNT_ENV = "MAYA_STRIPE_ACCOUNT"
"""The account (``acct_...``) to act on when the hosted server offers several."""

LINK_HOSTS_ENV = "MAYA_STRIPE_LINK_HOSTS"
"""Comma-separated hosts payment links may be on (default ``buy.stripe.com``,
``checkout.stripe.com``), for deployments behind another domain."""


@asynccontextmanager
async def open_stripe_client(
    *,
    config_path: str | os.PathLike[str] | None = None,
    server_name: str | None = None,
    allow_live: bool | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    sandbox: bool = False,
    require_stripe: bool | None = None,
    **options: Any,
) -> AsyncIterator[StripeMCPClient]:
    """Load ``mcp.json``, pick the transport and yield an open client.

    Nothing is chosen silently: with no configuration this raises, unless ``sandbox``
    asks for the offline sandbox (spawned over stdio, test mode, no money moves). The
    session opens on first use and closes when the block ends.

    Args:
        config_path: An explicit ``mcp.json``; otherwise ``$MAYA_MCP_CONFIG``,
            ``./mcp.json``, ``./.kiro/settings/mcp.json``.
        server_name: The ``mcpServers`` entry; default ``$MAYA_MCP_SERVER`` or ``stripe``.
        allow_live: Permit live mode; default ``$MAYA_ALLOW_LIVE``.
        environ: Variables for lookup and expansion (default ``os.environ``); also
            ``MAYA_STRIPE_ACCOUNT``, ``MAYA_STRIPE_LINK_HOSTS``, ``MAYA_MCP_CONNECT_TIMEOUT``.
        cwd: Directory for the relative lookup paths.
        sandbox: Use the local sandbox when no server is configured.
        require_stripe: Refuse the sandbox even so; default ``$MAYA_REQUIRE_STRIPE``.
        **options: Keyword arguments of ``StripeMCPClient`` (timeouts, clock, sleep...).

    Yields:
        The open client.

    Raises:
        McpConfigError: the configuration is malformed; no server is configured and
            ``sandbox`` is False; or a real Stripe is required and none is configured.
        LiveModeRefusedError: a live key is configured and live mode is not allowed.
    """
    env = os.environ if environ is None else environ
    config = load_server_config(
        config_path=config_path, server_name=server_name, environ=env, cwd=cwd
    )
    if config.name == SANDBOX_SERVER_NAME:
        if _requires_stripe(env, require_stripe):
            raise McpConfigError(_REFUSED)
        if not sandbox:
            raise McpConfigError(
                "no Stripe MCP server is configured: add one to mcp.json (see "
                "mcp.json.example), or pass sandbox=True for the local test sandbox"
            )
    live = allow_live_from_env(env) if allow_live is None else allow_live
    if env.get(ACCOUNT_ENV):
        options.setdefault("stripe_account", env[ACCOUNT_ENV].strip())
    if env.get(CONNECT_TIMEOUT_ENV):
        raw = env[CONNECT_TIMEOUT_ENV]
        try:
            seconds = float(raw)
        except ValueError:
            raise McpConfigError(
                f"{CONNECT_TIMEOUT_ENV} must be a number of seconds, not {raw[:20]!r}"
            ) from None
        if not 0 < seconds <= 600:
            raise McpConfigError(f"{CONNECT_TIMEOUT_ENV} must be between 0 and 600 seconds")
        options.setdefault("timeouts", Timeouts(connect_s=seconds))
    if env.get(LINK_HOSTS_ENV):
        hosts = [h.strip().lower() for h in env[LINK_HOSTS_ENV].split(",") if h.strip()]
        options.setdefault("link_hosts", hosts)
    async with StripeMCPClient.from_config(config, allow_live=live, **options) as client:
        yield client


PaymentSideMode = Literal["sandbox", "unavailable", "none"]
"""``sandbox``: spawn the offline Stripe sandbox; ``unavailable``: a server that never
answers; ``none``: no payment client."""


def _unreachable_config() -> McpServerConfig:
    # A "server" that exits at once: every probe fails fast, as with Stripe down.
    return McpServerConfig(
        name="unreachable",
        transport="stdio",
        command=sys.executable,
        args=("-c", "raise SystemExit(3)"),
        mode="test",
    )


@asynccontextmanager
async def open_payment_side(
    mode: PaymentSideMode,
    *,
    workdir: Path,
    faults: str | None = None,
    bounds: StatusBounds | None = None,
) -> AsyncIterator[StripeMCPClient | None]:
    """Open the payment side ``mode`` names, closed when the block ends.

    Args:
        mode: ``sandbox``, ``unavailable`` or ``none``.
        workdir: where the sandbox keeps its SQLite database.
        faults: the sandbox's ``--faults`` spec, passed through as it is.
        bounds: status-check bounds (default: ``CHAT_STATUS_BOUNDS``).

    Yields:
        The client for ``Toolset(payments=...)``, or None for ``none``.
    """
    if mode == "none":
        yield None
        return
    if mode == "unavailable":
        config = _unreachable_config()
    else:
        args = ["--db", str(workdir / "sandbox.sqlite3")]
        if faults:
            args += ["--faults", faults]
        config = sandbox_server_config(args=tuple(args))
    async with StripeMCPClient.from_config(
        config, timeouts=Timeouts(probe_s=10.0), status_bounds=bounds or CHAT_STATUS_BOUNDS
    ) as client:
        yield client
