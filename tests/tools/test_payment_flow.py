"""The whole payment flow through the dispatcher: the real StripeMCPClient on the real
sandbox, in memory. Links are paid the way the checkout page pays them (``pay_link``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from maya.bar import load_menu
from maya.payments import StripeMCPClient
from maya.sandbox import (
    CARD_GENERIC_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    MEMORY,
    SandboxStore,
    build_mcp_server,
    pay_link,
)
from maya.state import MemoryTabStore, TabManager
from maya.testing import FakeClock
from maya.tools import Toolset

pytestmark = pytest.mark.anyio

SESSION = "flow-1"


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    """The sandbox's objects, in a throwaway SQLite database."""
    with SandboxStore(MEMORY) as store:
        yield store


@pytest.fixture
async def client(sandbox: SandboxStore) -> AsyncIterator[StripeMCPClient]:
    """The real client, connected in memory to the real sandbox MCP server."""
    server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as opened:
        yield opened


@pytest.fixture
def flow(client: StripeMCPClient) -> Toolset:
    """Maya's tools over a memory tab store and the sandbox."""
    return Toolset(manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=client)


async def call(toolset: Toolset, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool and return its result, failing the test on an error response."""
    with anyio.fail_after(30):
        response = await toolset.call(name, args or {}, SESSION)
    assert response["status"] == "ok", response
    result: dict[str, Any] = response["result"]
    return result


async def test_order_tip_pay_and_settle_once(flow: Toolset, sandbox: SandboxStore) -> None:
    await call(flow, "order_drink", {"name": "Martini", "quantity": 2})
    await call(flow, "order_drink", {"name": "IPA"})
    await call(flow, "set_tip", {"percent": 20})
    link = await call(flow, "create_stripe_payment")
    assert link["amount"] == "$38.40" and link["amount_cents"] == 3840
    assert link["is_simulated"] is False and link["payment_id"].startswith("plink_")

    manager = flow.context.manager
    before = (await manager.get(SESSION)).model_dump_json()
    unpaid = await call(flow, "check_payment_status")  # not paid yet: pending, at chat speed
    assert unpaid["payment_status"] == "pending"
    assert (await manager.get(SESSION)).model_dump_json() == before
    assert pay_link(sandbox, link["url"], CARD_SUCCESS).outcome == "paid"

    paid = await call(flow, "check_payment_status")
    assert paid["payment_status"] == "succeeded" and paid["applied"] is True
    assert paid["amount_paid_cents"] == 3840
    bill = await call(flow, "get_bill")
    assert bill["items"] == [] and bill["tab_cents"] == 0 and bill["tip_percent"] is None
    assert bill["payment"]["status"] == "completed"
    assert bill["balance"] == "$968.00"

    settled = (await manager.get(SESSION)).model_dump_json()
    again = await call(flow, "check_payment_status", {"payment_id": link["payment_id"]})
    assert again["applied"] is False
    assert (await manager.get(SESSION)).model_dump_json() == settled


async def test_two_concurrent_requests_for_one_session_make_one_link(
    flow: Toolset, sandbox: SandboxStore
) -> None:
    await call(flow, "order_drink", {"name": "Negroni"})
    first, second = await asyncio.gather(
        call(flow, "create_stripe_payment"), call(flow, "create_stripe_payment")
    )
    assert first["url"] == second["url"] and first["payment_id"] == second["payment_id"]
    links, more = sandbox.list_payment_links()
    assert len(links) == 1 and not more


async def test_asking_again_for_an_unchanged_tab_makes_no_new_link(
    flow: Toolset, sandbox: SandboxStore
) -> None:
    await call(flow, "order_drink", {"name": "Water"})
    first = await call(flow, "create_stripe_payment")
    second = await call(flow, "create_stripe_payment")
    assert second["reused"] is True and second["url"] == first["url"]
    assert len(sandbox.list_payment_links()[0]) == 1


@pytest.mark.parametrize(
    ("card", "reason"),
    [(CARD_GENERIC_DECLINE, "generic_decline"), (CARD_INSUFFICIENT_FUNDS, "insufficient_funds")],
)
async def test_a_declined_card_settles_nothing_and_another_card_then_pays(
    flow: Toolset, sandbox: SandboxStore, card: str, reason: str
) -> None:
    await call(flow, "order_drink", {"name": "Old Fashioned"})
    link = await call(flow, "create_stripe_payment")
    assert pay_link(sandbox, link["url"], card).outcome == "declined"

    failed = await call(flow, "check_payment_status")
    assert failed["payment_status"] == "failed" and failed["decline_reason"] == reason
    assert "another card" in failed["message"].lower()
    bill = await call(flow, "get_bill")
    assert bill["tab_cents"] == 1200 and bill["payment"]["status"] == "failed"

    assert pay_link(sandbox, link["url"], CARD_SUCCESS).outcome == "paid"
    paid = await call(flow, "check_payment_status")
    assert paid["payment_status"] == "succeeded" and paid["tab_cents"] == 0


async def test_a_changed_tab_deactivates_the_old_link_and_makes_a_new_one(
    flow: Toolset, sandbox: SandboxStore
) -> None:
    await call(flow, "order_drink", {"name": "Daiquiri"})
    old = await call(flow, "create_stripe_payment")
    await call(flow, "order_drink", {"name": "Soda"})
    new = await call(flow, "create_stripe_payment")
    assert new["payment_id"] != old["payment_id"] and new["amount_cents"] == 1300
    assert new["replaced_payment_id"] == old["payment_id"]
    assert new["replaced_link_deactivated"] is True
    assert pay_link(sandbox, old["url"], CARD_SUCCESS).outcome == "inactive"

    assert pay_link(sandbox, new["url"], CARD_SUCCESS).outcome == "paid"
    paid = await call(flow, "check_payment_status")
    assert paid["payment_status"] == "succeeded" and paid["tab_cents"] == 0


async def test_a_payment_id_from_another_session_is_refused(flow: Toolset) -> None:
    await call(flow, "order_drink", {"name": "Rum"})
    link = await call(flow, "create_stripe_payment")
    with anyio.fail_after(30):
        other = await flow.call("check_payment_status", {"payment_id": link["payment_id"]}, "x-2")
    assert other["status"] == "error" and other["error"] == "PAYMENT_NOT_FOUND"


async def test_a_status_check_in_a_conversation_answers_not_paid_yet_at_chat_speed(
    sandbox: SandboxStore,
) -> None:
    """Built as the README's own-agent example builds it: a Toolset over a client with
    its default bounds. Unpaid is ``pending`` ("not paid yet") within a few seconds."""
    server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as client:
        toolset = Toolset(
            manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=client
        )
        await call(toolset, "order_drink", {"name": "Martini"})
        await call(toolset, "create_stripe_payment")
        started = clock()
        unpaid = await call(toolset, "check_payment_status")
        waited = clock() - started
    assert unpaid["payment_status"] == "pending"
    assert "hasn't come through yet" in unpaid["message"]
    assert waited <= 5.0, f"a chat status check polled for {waited:.1f}s"
