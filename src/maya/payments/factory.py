"""``open_stripe_client``: configuration to a connected-on-demand ``StripeMCPClient``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from maya.payments.client import StripeMCPClient
from maya.payments.config import load_server_config
from maya.payments.errors import McpConfigError
from maya.payments.mode import allow_live_from_env

__all__ = ["ACCOUNT_ENV", "CONNECT_TIMEOUT_ENV", "LINK_HOSTS_ENV", "open_stripe_client"]

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
