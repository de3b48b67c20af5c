"""Building an ``mcp.Client`` for a configured server; a fresh one for every connection."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client._transport import TransportStreams
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server
from mcp.server.mcpserver import MCPServer

from maya.payments.config import McpServerConfig

__all__ = ["Connector", "connector_for", "in_memory_connector"]

Connector = Callable[[], Client]
"""Makes a new, un-entered ``mcp.Client``; called once per (re)connection."""

# The SDK's defaults: a slow server must not break a long-lived session's streams.
_HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)


def connector_for(config: McpServerConfig) -> Connector:
    """A connector for a stdio or streamable-HTTP server from ``mcp.json``.

    Args:
        config: The server's configuration.

    Returns:
        A function that makes a new client each time it is called.

    Raises:
        ValueError: the configuration has neither a command nor a URL.
    """
    if config.transport == "stdio" and config.command is not None:
        params = StdioServerParameters(
            command=config.command,
            args=list(config.arg_values()),
            env=config.env_values() or None,
            cwd=config.cwd,
        )
        return lambda: Client(_stdio_transport(params), cache=None)
    if config.transport == "http" and config.url is not None:
        url = config.url
        headers = config.header_values()
        return lambda: Client(_http_transport(url, headers), cache=None)
    raise ValueError(f"server {config.name!r} has neither a command nor a url")


def in_memory_connector(server: MCPServer[Any] | Server[Any]) -> Connector:
    """A connector that talks to ``server`` in this process (tests, the demo).

    Args:
        server: An ``MCPServer`` or low-level ``Server``.
    """
    return lambda: Client(server, cache=None)


@asynccontextmanager
async def _stdio_transport(params: StdioServerParameters) -> AsyncIterator[TransportStreams]:
    # sys.stderr is read at connect time, not import time, so redirected stderr is honoured.
    async with stdio_client(params, errlog=sys.stderr) as streams:
        yield streams


@asynccontextmanager
async def _http_transport(url: str, headers: Mapping[str, str]) -> AsyncIterator[TransportStreams]:
    async with (
        httpx2.AsyncClient(headers=dict(headers), timeout=_HTTP_TIMEOUT) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams
