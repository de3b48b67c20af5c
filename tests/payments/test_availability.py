"""The availability probe: bounded, cached on the injected clock, invalidated on failure."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator

import anyio
import pytest
from anyio.abc import SocketAttribute, SocketStream
from mcp.server.mcpserver import MCPServer

from maya.codes import ErrorCode
from maya.payments import McpServerConfig, StripeMCPClient, StripeUnavailableError, Timeouts
from maya.sandbox import LIST_TOOLS, CallCounts
from maya.testing import FakeClock
from maya.testing.client_calls import count_client_calls, forget_availability

from .conftest import MakeClient

pytestmark = pytest.mark.anyio


async def test_a_second_probe_within_the_ttl_makes_no_call(
    make_client: MakeClient, clock: FakeClock, calls: CallCounts
) -> None:
    async with make_client() as client:
        assert await client.is_available()
        clock.advance(29.9)
        assert await client.is_available()
        assert calls.count(tool=LIST_TOOLS) == 1
        clock.advance(0.1)
        assert await client.is_available()
        assert calls.count(tool=LIST_TOOLS) == 2


async def test_invalidation_makes_the_next_probe_call(
    make_client: MakeClient, calls: CallCounts
) -> None:
    async with make_client() as client:
        assert await client.is_available()
        forget_availability(client)
        assert await client.is_available()
    assert calls.count(tool=LIST_TOOLS) == 2


async def test_operations_share_the_cached_probe(
    make_client: MakeClient, calls: CallCounts
) -> None:
    async with make_client() as client:
        assert await client.is_available()
        link = await client.create_payment_link(100, "Tab", "k")
        await client.check_payment_status(link.payment_id, deadline=0.1)
        await client.deactivate_payment_link(link.payment_id)
    assert calls.count(tool=LIST_TOOLS) == 1


def unrelated_server() -> MCPServer:
    server = MCPServer("not-stripe")

    @server.tool()
    def weather(city: str) -> str:
        """Not a payments tool."""
        return f"sunny in {city}"

    return server


async def test_a_server_without_a_stripe_dialect_is_unavailable(clock: FakeClock) -> None:
    client = StripeMCPClient.in_memory(unrelated_server(), clock=clock, sleep=clock.sleep)
    async with client:
        assert not await client.is_available()
        link = await client.create_payment_link(100, "Tab", "k")
    assert link.is_simulated
    assert clock.sleeps == []


async def test_unavailable_in_live_mode_raises(clock: FakeClock) -> None:
    client = StripeMCPClient.in_memory(
        unrelated_server(), mode="live", allow_live=True, clock=clock, sleep=clock.sleep
    )
    async with client:
        with pytest.raises(StripeUnavailableError) as info:
            await client.create_payment_link(100, "Tab", "k")
        with pytest.raises(StripeUnavailableError):
            await client.check_payment_status("plink_123")
        assert await client.deactivate_payment_link("plink_123") is False
    assert info.value.code == ErrorCode.STRIPE_UNAVAILABLE
    assert "weather" in (info.value.last_error or "")


@pytest.fixture
async def silent_http_server() -> AsyncIterator[str]:
    """A TCP port that accepts connections and never answers."""
    held: list[SocketStream] = []

    async def hold(stream: SocketStream) -> None:
        held.append(stream)
        try:
            await anyio.sleep_forever()
        finally:
            await stream.aclose()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, hold)
        yield f"http://127.0.0.1:{port}/mcp"
        tg.cancel_scope.cancel()


async def test_a_silent_server_fails_the_probe_within_its_timeout(
    silent_http_server: str, clock: FakeClock
) -> None:
    config = McpServerConfig(name="silent", transport="http", url=silent_http_server)
    # The handshake itself never answers: that is bounded by connect_timeout (the issue
    # separates it from the probe's timeout, so a slow first start is not "down").
    client = StripeMCPClient.from_config(
        config,
        timeouts=Timeouts(probe_s=0.3, connect_s=0.3),
        clock=clock,
        sleep=clock.sleep,
    )
    started = time.monotonic()
    with anyio.fail_after(10):
        async with client:
            assert not await client.is_available()
            elapsed = time.monotonic() - started
            link = await client.create_payment_link(100, "Tab", "k")
    assert elapsed < 1.0
    assert link.is_simulated


async def test_a_server_that_cannot_start_is_unavailable_and_cached(
    clock: FakeClock, payments_log: pytest.LogCaptureFixture
) -> None:
    config = McpServerConfig(
        name="broken", transport="stdio", command=sys.executable, args=(), mode="test"
    ).model_copy(update={"command": "/nonexistent/stripe-mcp"})
    client = StripeMCPClient.from_config(config, clock=clock, sleep=clock.sleep)
    calls = count_client_calls(client)
    with anyio.fail_after(10):
        async with client:
            assert not await client.is_available()
            assert not await client.is_available()
            assert calls.count(tool=LIST_TOOLS) == 1
            assert (await client.create_payment_link(100, "Tab", "k")).is_simulated
    assert "outcome=connect" in payments_log.text


async def test_a_server_that_cannot_start_in_live_mode_raises_unavailable(clock: FakeClock) -> None:
    config = McpServerConfig(
        name="broken", transport="stdio", command="/nonexistent/stripe-mcp", mode="live"
    )
    client = StripeMCPClient.from_config(config, allow_live=True, clock=clock, sleep=clock.sleep)
    with anyio.fail_after(10):
        async with client:
            with pytest.raises(StripeUnavailableError, match="broken"):
                await client.create_payment_link(100, "Tab", "k")
