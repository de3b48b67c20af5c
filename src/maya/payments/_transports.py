"""Building an ``mcp.Client`` for a configured server; a fresh one for every connection.

Every client uses the classic ``initialize`` handshake; a spawned server's stderr is
redacted and logged on ``maya.payments.server.<name>``, never passed to the terminal.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import IO, Any, TextIO, cast

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client._transport import TransportStreams
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server import Server
from mcp.server.mcpserver import MCPServer

from maya.payments.config import McpServerConfig
from maya.redact import redact

__all__ = ["Connector", "connector_for", "in_memory_connector"]

Connector = Callable[[], Client]
"""Makes a new, un-entered ``mcp.Client``; called once per (re)connection."""

# The SDK's defaults: a slow server must not break a long-lived session's streams.
_HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
# A server writing more than this per line is cut; it is a log, not a channel.
_MAX_STDERR_LINE = 2000
_MODE = "legacy"


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
        name = config.name
        return lambda: Client(_stdio_transport(params, name), cache=None, mode=_MODE)
    if config.transport == "http" and config.url is not None:
        url = config.url
        headers = config.header_values()
        return lambda: Client(_http_transport(url, headers), cache=None, mode=_MODE)
    raise ValueError(f"server {config.name!r} has neither a command nor a url")


def in_memory_connector(server: MCPServer[Any] | Server[Any]) -> Connector:
    """A connector that talks to ``server`` in this process (tests, the demo).

    Args:
        server: An ``MCPServer`` or low-level ``Server``.
    """
    return lambda: Client(server, cache=None, mode=_MODE)


class StderrPump:
    """Reads a child's stderr from a pipe and logs it, redacted, under the server's name.

    Args:
        server_name: The ``mcpServers`` entry, used in the logger's name.

    Attributes:
        writer: The pipe's write end, handed to the child as its stderr.
        lines: How many lines were read.
    """

    def __init__(self, server_name: str) -> None:
        self.server_name = server_name
        self.log = logging.getLogger(f"maya.payments.server.{server_name}")
        read_fd, write_fd = os.pipe()
        self._reader: IO[bytes] = os.fdopen(read_fd, "rb")
        self.writer = cast(TextIO, os.fdopen(write_fd, "w"))
        self.closing = False
        self.lines = 0
        self.last_line = ""
        self._thread = threading.Thread(
            target=self._pump, name=f"stderr-{server_name}", daemon=True
        )
        self._thread.start()

    def _pump(self) -> None:
        try:
            for raw in self._reader:
                line = redact(raw.decode("utf-8", "replace").rstrip()[:_MAX_STDERR_LINE])
                if not line:
                    continue
                self.lines += 1
                self.last_line = line
                self.log.debug("%s: %s", self.server_name, line)
        finally:
            self._reader.close()
            if not self.closing:
                self.log.warning(
                    "MCP server %s stopped%s",
                    self.server_name,
                    f" (last words: {self.last_line[:200]})" if self.last_line else "",
                )

    def release_writer(self) -> None:
        """Close our copy of the write end, so the pump ends when the child does."""
        if not self.writer.closed:
            self.writer.close()


@asynccontextmanager
async def _stdio_transport(
    params: StdioServerParameters, server_name: str
) -> AsyncIterator[TransportStreams]:
    pump = StderrPump(server_name)
    try:
        async with stdio_client(params, errlog=pump.writer) as streams:
            pump.release_writer()
            try:
                yield streams
            finally:
                pump.closing = True
    finally:
        pump.closing = True
        pump.release_writer()


@asynccontextmanager
async def _http_transport(url: str, headers: Mapping[str, str]) -> AsyncIterator[TransportStreams]:
    async with (
        httpx2.AsyncClient(headers=dict(headers), timeout=_HTTP_TIMEOUT) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams
