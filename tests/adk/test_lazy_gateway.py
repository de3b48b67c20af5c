"""``LazyStripeGateway``: the Stripe client opened on first use in a task of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from maya.adk.gateway import LazyStripeGateway
from maya.bar import load_menu
from maya.payments import CHAT_STATUS_BOUNDS, LiveModeRefusedError, StripeMCPClient
from maya.sandbox import CARD_SUCCESS, MEMORY, SandboxStore, build_mcp_server, pay_link
from maya.state import MemoryTabStore, TabManager
from maya.tools import Toolset

pytestmark = pytest.mark.anyio


class Sandbox:
    """Opens a ``StripeMCPClient`` over the in-memory sandbox, counting openings and closings."""

    def __init__(self) -> None:
        self.store = SandboxStore(MEMORY)
        self.opened = 0
        self.closed = 0

    @asynccontextmanager
    async def open(self) -> AsyncIterator[StripeMCPClient]:
        server = build_mcp_server(self.store, checkout_base_url="http://127.0.0.1:9")
        self.opened += 1
        try:
            async with StripeMCPClient.in_memory(
                server, status_bounds=CHAT_STATUS_BOUNDS
            ) as client:
                yield client
        finally:
            self.closed += 1


async def test_opens_once_on_first_use_serves_every_task_and_closes() -> None:
    sandbox = Sandbox()
    gateway = LazyStripeGateway(sandbox.open)
    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=gateway)
    assert sandbox.opened == 0
    links: dict[str, str] = {}

    async def customer(tab: str) -> None:
        await toolset.call("order_drink", {"name": "Gin"}, tab)
        response = await toolset.call("create_stripe_payment", {}, tab)
        assert response["status"] == "ok", response
        links[tab] = response["result"]["url"]

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for tab in ("a", "b", "c"):
                tg.start_soon(customer, tab)
        assert pay_link(sandbox.store, links["b"], CARD_SUCCESS).paid
        checked = await toolset.call("check_payment_status", {}, "b")
        await gateway.aclose()
        await gateway.aclose()
    sandbox.store.close()
    assert (sandbox.opened, sandbox.closed) == (1, 1)
    assert len(set(links.values())) == 3
    assert checked["result"]["payment_status"] == "succeeded"


async def test_an_opening_failure_reaches_the_caller_with_its_code_and_is_retried() -> None:
    attempts: list[int] = []

    @asynccontextmanager
    async def refusing() -> AsyncIterator[StripeMCPClient]:
        attempts.append(1)
        raise LiveModeRefusedError("live key without MAYA_ALLOW_LIVE=1", server="stripe")
        yield  # pragma: no cover - never reached

    gateway = LazyStripeGateway(refusing)
    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=gateway)
    await toolset.call("order_drink", {"name": "Gin"}, "t")
    with anyio.fail_after(10):
        first = await toolset.call("create_stripe_payment", {}, "t")
        second = await toolset.call("create_stripe_payment", {}, "t")
        await gateway.aclose()
    assert first["error"] == second["error"] == "LIVE_MODE_REFUSED"
    assert len(attempts) == 2
