"""A simulated link is a stopgap: once Stripe (the sandbox) answers again, a real link
replaces it, on the next Pay or the next status check, and the customer is told."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from maya.bar import load_menu
from maya.payments import McpServerConfig, StripeMCPClient, Timeouts
from maya.sandbox import SandboxStore
from maya.state import MemoryTabStore, TabManager
from maya.testing import FakeClock
from maya.tools import Toolset

from .conftest import HttpSandbox

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SESSION = "stopgap"


async def _call(toolset: Toolset, name: str) -> dict[str, Any]:
    response = await toolset.call(name, {}, SESSION)
    assert response["status"] == "ok", response
    result: dict[str, Any] = response["result"]
    return result


def _links(sandbox: HttpSandbox) -> list[dict[str, Any]]:
    with SandboxStore(sandbox.db) as store:
        links, _ = store.list_payment_links(limit=100)
    return links


@pytest.mark.parametrize("asked_by", ["create_stripe_payment", "check_payment_status"])
async def test_a_simulated_link_is_replaced_by_a_real_one_when_stripe_is_back(
    http_sandbox: HttpSandbox, clock: FakeClock, asked_by: str
) -> None:
    config = McpServerConfig(name="sandbox", transport="http", url=http_sandbox.url)
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    with anyio.fail_after(60):
        async with StripeMCPClient.from_config(
            config, clock=clock, sleep=clock.sleep, timeouts=Timeouts(connect_s=5.0)
        ) as client:
            toolset = Toolset(manager=manager, payments=client)
            await manager.order(SESSION, "Negroni", 2)
            await http_sandbox.kill()  # Stripe is unreachable for a while
            stopgap = await _call(toolset, "create_stripe_payment")
            assert stopgap["is_simulated"] is True
            assert await _call(toolset, "create_stripe_payment") == {**stopgap, "reused": True}

            await http_sandbox.start()  # back, at the same address
            await clock.sleep(client.retry_policy.overall_timeout + 30.0)  # verdicts expire
            again = await _call(toolset, asked_by)

    links = _links(http_sandbox)
    assert len(links) == 1
    assert again["payment_id"] == links[0]["id"] != stopgap["payment_id"]
    assert again["is_simulated"] is False
    assert again["replaced_simulated_payment_id"] == stopgap["payment_id"]
    assert "real payment link" in again["message"] and again["url"] in again["message"]
    if asked_by == "check_payment_status":
        assert again["payment_status"] == "pending"  # the real link is not paid yet
    current = (await manager.get(SESSION)).current_payment
    assert current is not None and current.payment_id == links[0]["id"]
    assert not current.is_simulated and current.url == again["url"]
    assert again["url"].endswith(links[0]["url"])  # the sandbox keeps the path
    assert len((await manager.get(SESSION)).payments) == 1  # the same record, now real
