"""The tools' results say what the money came to (issue 21), on every store kind.

The payment tools over a scripted Stripe (``tools/scripted_gateway.py``): a superseded
link paid late, its newer link closed or left open but not owed, a short payment.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import anyio
import jsonschema
import pytest

from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.bar.schemas import RESULT_SCHEMAS
from maya.state.manager import TabManager
from maya.tools import Toolset
from state.conftest import Backend
from tools.scripted_gateway import ScriptedGateway

pytestmark = pytest.mark.anyio

SESSION = "bar"


@pytest.fixture
async def manager(backend: Backend) -> AsyncIterator[TabManager]:
    store = backend.open()
    try:
        yield TabManager(store, catalog=load_menu())
    finally:
        await store.aclose()


async def call(toolset: Toolset, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    with anyio.fail_after(30):
        response = await toolset.call(name, args or {}, SESSION)
    assert response["status"] == "ok", response
    result: dict[str, Any] = response["result"]
    if name in RESULT_SCHEMAS:  # what MCP clients validate every result against
        jsonschema.validate(result, RESULT_SCHEMAS[name])
    return result


async def two_links(toolset: Toolset) -> None:
    """ "Two martinis and a beer", Pay ($31, plink_1); "and a beer", Pay ($36, plink_2)."""
    await call(toolset, "order_drink", {"name": "Martini", "quantity": 2})
    await call(toolset, "order_drink", {"name": "Tap Beer"})
    assert (await call(toolset, "create_stripe_payment"))["amount_cents"] == 3100
    await call(toolset, "order_drink", {"name": "Tap Beer"})
    assert (await call(toolset, "create_stripe_payment"))["amount_cents"] == 3600


async def test_the_old_link_paid_late_closes_the_newer_one(manager: TabManager) -> None:
    gateway = ScriptedGateway()
    toolset = Toolset(manager=manager, payments=gateway, messages=bar_messages())
    await two_links(toolset)
    gateway.set_status("plink_1", "succeeded", amount_paid_cents=3100)
    paid = await call(toolset, "check_payment_status", {"payment_id": "plink_1"})
    assert paid["applied"] is True and paid["tab_cents"] == 500
    assert "plink_2" in gateway.deactivated and "open_links_not_owed" not in paid
    state = await manager.get(SESSION)
    record = state.find_payment("plink_2")
    assert record is not None and record.link_closed and state.stale_links == ()
    bill = await call(toolset, "get_bill")
    assert bill["total_due_cents"] == 500 and "test_2" not in json.dumps(bill)
    asked = await call(toolset, "check_payment_status")
    assert asked["payment_id"] == "plink_1" and asked["payment_status"] == "succeeded"
    again = await call(toolset, "create_stripe_payment")
    assert (again["amount_cents"], again["payment_id"]) == (500, "plink_3")


async def test_a_newer_link_stripe_will_not_close_is_named_and_closed_on_the_next_pay(
    manager: TabManager,
) -> None:
    gateway = ScriptedGateway()
    toolset = Toolset(manager=manager, payments=gateway, messages=bar_messages())
    await two_links(toolset)
    gateway.fail("deactivate", PermissionError("no Payment Links write access"))
    gateway.set_status("plink_1", "succeeded", amount_paid_cents=3100)
    paid = await call(toolset, "check_payment_status", {"payment_id": "plink_1"})
    assert [link["payment_id"] for link in paid["open_links_not_owed"]] == ["plink_2"]
    assert "older payment link for $36.00 is still open" in paid["message"]
    asked = await call(toolset, "check_payment_status")
    assert asked["payment_id"] == "plink_1" and "don't pay it" in asked["message"]
    bill = await call(toolset, "get_bill")
    assert [link["payment_id"] for link in bill["open_links_not_owed"]] == ["plink_2"]
    assert "credit to refund" in bill["open_links_not_owed"][0]["note"]
    assert "test_2" not in json.dumps(bill)  # its URL is never offered again
    gateway.fail_deactivate = None
    again = await call(toolset, "create_stripe_payment")
    assert again["amount_cents"] == 500 and "plink_2" in gateway.deactivated
    assert (await manager.get(SESSION)).stale_links == ()


async def test_a_short_payment_is_said_and_left_due(manager: TabManager) -> None:
    gateway = ScriptedGateway()
    toolset = Toolset(manager=manager, payments=gateway, messages=bar_messages())
    await call(toolset, "order_drink", {"name": "Martini", "quantity": 2})
    await call(toolset, "order_drink", {"name": "Tap Beer"})
    await call(toolset, "create_stripe_payment")
    gateway.set_status("plink_1", "succeeded", amount_paid_cents=2100)
    paid = await call(toolset, "check_payment_status")
    assert (paid["shortfall_cents"], paid["total_due_cents"]) == (1000, 1000)
    assert "$10.00 is still due" in paid["message"]
    over = await call(toolset, "create_stripe_payment")
    assert over["amount_cents"] == 1000
    gateway.set_status("plink_2", "succeeded", amount_paid_cents=1500)
    paid = await call(toolset, "check_payment_status")
    assert paid["credit_cents"] == 500 and "credit for the staff to refund" in paid["message"]
    assert (await manager.get(SESSION)).total_due_cents == 0
