"""The ways to open a ``StripeMCPClient`` from configuration.

``open_stripe_client`` reads ``mcp.json`` (or spawns the sandbox when there is none);
``open_payment_side`` opens what a demo or a conversation test asks for: the sandbox as
a real subprocess (with its own database and optional faults), an unreachable server
(test mode then falls back to simulated links), or none at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from maya.payments.client import CHAT_STATUS_BOUNDS, StatusBounds, StripeMCPClient
from maya.payments.config import (
    McpServerConfig,
    allow_live_from_env,
    load_server_config,
    sandbox_server_config,
)
from maya.payments.errors import McpConfigError

__all__ = [
    "ACCOUNT_ENV",
    "CONNECT_TIMEOUT_ENV",
    "LINK_HOSTS_ENV",
    "PaymentSideMode",
    "open_payment_side",
    "open_stripe_client",
]

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
    **options: Any,
) -> AsyncIterator[StripeMCPClient]:
    """Load ``mcp.json``, pick the transport and yield an open client.

    With no configuration the offline sandbox is spawned over stdio (test mode). The
    session opens on first use and closes when the block ends.

    Args:
        config_path: An explicit ``mcp.json``; otherwise ``$MAYA_MCP_CONFIG``,
            ``./mcp.json``, ``./.kiro/settings/mcp.json``.
        server_name: The ``mcpServers`` entry; default ``$MAYA_MCP_SERVER`` or ``stripe``.
        allow_live: Permit live mode; default ``$MAYA_ALLOW_LIVE``.
        environ: Variables for lookup and expansion (default ``os.environ``); also
            ``MAYA_STRIPE_ACCOUNT``, ``MAYA_STRIPE_LINK_HOSTS``, ``MAYA_MCP_CONNECT_TIMEOUT``.
        cwd: Directory for the relative lookup paths.
        **options: Keyword arguments of ``StripeMCPClient`` (timeouts, clock, sleep...).

    Yields:
        The open client.

    Raises:
        McpConfigError: the configuration is malformed.
        LiveModeRefusedError: a live key is configured and live mode is not allowed.
    """
    env = os.environ if environ is None else environ
    config = load_server_config(
        config_path=config_path, server_name=server_name, environ=env, cwd=cwd
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
        options.setdefault("connect_timeout", seconds)
    if env.get(LINK_HOSTS_ENV):
        hosts = [h.strip().lower() for h in env[LINK_HOSTS_ENV].split(",") if h.strip()]
        options.setdefault("link_hosts", hosts)
    async with StripeMCPClient.from_config(config, allow_live=live, **options) as client:
        yield client


PaymentSideMode = Literal["sandbox", "unavailable", "none"]
"""``sandbox``: spawn the offline Stripe sandbox; ``unavailable``: a server that never
answers; ``none``: no payment client."""

STATUS_TIMEOUT_FAULT = "hang_after=0,only=GetCheckoutSessions+stripe_api_read"
"""Every status read hangs: the payment's status can never be learned."""


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
    status_timeout: bool = False,
    bounds: StatusBounds | None = None,
) -> AsyncIterator[StripeMCPClient | None]:
    """Open the payment side ``mode`` names, closed when the block ends.

    Args:
        mode: ``sandbox``, ``unavailable`` or ``none``.
        workdir: where the sandbox keeps its SQLite database.
        faults: a sandbox fault spec (see ``maya.sandbox.faults``).
        status_timeout: make every status read hang (the check then times out).
        bounds: status-check bounds (default: ``CHAT_STATUS_BOUNDS``, shorter ones when
            ``status_timeout``).

    Yields:
        The client for ``Toolset(payments=...)``, or None for ``none``.
    """
    if mode == "none":
        yield None
        return
    if mode == "unavailable":
        config = _unreachable_config()
    else:
        specs = [
            spec for spec in (faults, STATUS_TIMEOUT_FAULT if status_timeout else None) if spec
        ]
        args = ["--db", str(workdir / "sandbox.sqlite3")]
        if specs:
            args += ["--faults", ",".join(specs)]
        config = sandbox_server_config(args=tuple(args))
    if bounds is None:
        bounds = (
            StatusBounds(poll_interval_s=0.2, poll_timeout_s=0.5, deadline_s=1.5)
            if status_timeout
            else CHAT_STATUS_BOUNDS
        )
    async with StripeMCPClient.from_config(
        config, probe_timeout=10.0, status_bounds=bounds
    ) as client:
        yield client
