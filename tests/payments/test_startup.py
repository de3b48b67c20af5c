"""A slow first start is not "Stripe is down": connecting has its own, longer bound.

The server here is the sandbox behind a start-up delay (as a cold ``npx`` download is),
spawned as a real process over stdio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anyio
import pytest

from maya.payments import McpServerConfig, PaymentStatusTimeoutError, StripeMCPClient, Timeouts
from maya.testing import FakeClock
from maya.testing.client_calls import sessions_attempted

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SLOW_START = """
import time
time.sleep({delay})
import anyio
from maya.sandbox import MEMORY, SandboxStore, build_mcp_server
server = build_mcp_server(SandboxStore(MEMORY), checkout_base_url="http://127.0.0.1:9")
anyio.run(server.run_stdio_async)
"""


def slow_server(tmp_path: Path, delay: float) -> McpServerConfig:
    script = tmp_path / "slow.py"
    script.write_text(SLOW_START.format(delay=delay))
    return McpServerConfig(
        name="slow",
        transport="stdio",
        command=sys.executable,
        args=(script.as_posix(),),  # type: ignore[arg-type]
        mode="test",
    )


async def test_a_start_slower_than_the_probe_still_gives_a_real_link(
    tmp_path: Path, clock: FakeClock
) -> None:
    client = StripeMCPClient.from_config(
        slow_server(tmp_path, 1.5),
        clock=clock,
        sleep=clock.sleep,
        timeouts=Timeouts(probe_s=0.3, connect_s=20.0),
        allow_loopback_links=True,
    )
    started = time.monotonic()
    with anyio.fail_after(30):
        async with client:
            link = await client.create_payment_link(1500, "Tab", "slow-start")
    assert time.monotonic() - started >= 1.5
    assert not link.is_simulated
    assert sessions_attempted(client) == 1


async def test_giving_up_while_it_starts_is_not_remembered_as_unavailable(
    tmp_path: Path, clock: FakeClock
) -> None:
    client = StripeMCPClient.from_config(
        slow_server(tmp_path, 1.5),
        clock=clock,
        sleep=clock.sleep,
        timeouts=Timeouts(connect_s=20.0),
        allow_loopback_links=True,
    )
    with anyio.fail_after(30):
        async with client:
            with pytest.raises(PaymentStatusTimeoutError):
                await client.check_payment_status("plink_123", deadline=0.3)
            # The start went on in the background; nothing "unavailable" was cached.
            assert await client.is_available()
            link = await client.create_payment_link(1500, "Tab", "after-waiting")
    assert not link.is_simulated
    assert sessions_attempted(client) == 1
