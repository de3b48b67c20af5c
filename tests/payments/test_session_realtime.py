"""A real MCP session used after it is older than its connect bound, in real time.

The connect bound is for opening a session; an open one lives until its transport fails.
These tests wait on the wall clock (a few seconds each), so they carry the ``realtime``
marker; the default ``pytest`` run (and CI) includes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from maya.payments import StripeMCPClient, Timeouts, load_server_config, sandbox_server_config

from .conftest import HttpSandbox

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.realtime]

CONNECT_BOUND_S = 2.0
OLDER_THAN_BOUND_S = 3.0


async def _two_links_across_the_bound(client: StripeMCPClient, prefix: str) -> None:
    first = await client.create_payment_link(1200, "Tab", f"{prefix}-first")
    assert not first.is_simulated
    assert client.connect_timeout == CONNECT_BOUND_S
    await anyio.sleep(OLDER_THAN_BOUND_S)  # the session is now older than its connect bound
    second = await client.create_payment_link(1300, "Tab", f"{prefix}-second")
    assert not second.is_simulated, "a session older than its connect bound was dropped"
    assert second.payment_id != first.payment_id
    status = await client.check_payment_status(second.payment_id, deadline=0.5)
    assert status.status == "pending"
    assert client.connect_count == 1


async def test_a_stdio_session_outlives_its_connect_bound(tmp_path: Path) -> None:
    config = sandbox_server_config(environ={}, args=("--db", str(tmp_path / "s.sqlite3")))
    with anyio.fail_after(60):
        async with StripeMCPClient.from_config(config) as client:
            # A cold spawn of the sandbox takes ~3 s on a loaded two-core machine, longer
            # than the bound under test: open the session first, then tighten the bound.
            assert await client.is_available()
            client.connect_timeout = CONNECT_BOUND_S
            await _two_links_across_the_bound(client, "stdio")


async def test_an_http_session_outlives_its_connect_bound(
    http_sandbox: HttpSandbox, tmp_path: Path
) -> None:
    config_file = tmp_path / "mcp.json"
    config_file.write_text(json.dumps({"mcpServers": {"stripe": {"url": http_sandbox.url}}}))
    config = load_server_config(config_path=config_file, environ={})
    with anyio.fail_after(60):
        async with StripeMCPClient.from_config(
            config, timeouts=Timeouts(connect_s=CONNECT_BOUND_S)
        ) as client:
            await _two_links_across_the_bound(client, "http")
