"""The payment tools' own rules, with a scripted gateway standing in for Stripe.

The same flow against the real client and the real sandbox is in test_payment_flow.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scripted_gateway import ScriptedGateway

from maya.codes import ErrorCode
from maya.state import TabManager
from maya.tools import Toolset

pytestmark = pytest.mark.anyio


async def _order(toolset: Toolset, name: str = "Martini", session: str = "s1") -> None:
    assert (await toolset.call("order_drink", {"name": name}, session))["status"] == "ok"


async def test_a_payment_link_charges_tab_plus_tip_from_the_tab_itself(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    await _order(toolset)
    await toolset.call("set_tip", {"percent": 15}, "s1")
    result = await toolset.call("create_stripe_payment", {}, "s1")
    assert result["status"] == "ok"
    link = result["result"]
    assert link["amount"] == "$14.95" and link["amount_cents"] == 1495
    assert link["url"] == "https://buy.stripe.com/test_1" and link["payment_id"] == "plink_1"
    assert link["is_simulated"] is False and link["reused"] is False
    assert link["url"] in link["message"]
    state = await manager.get("s1")
    assert state.current_payment is not None and state.current_payment.url == link["url"]


async def test_an_amount_argument_is_refused(toolset: Toolset, gateway: ScriptedGateway) -> None:
    await _order(toolset)
    result = await toolset.call("create_stripe_payment", {"amount_cents": 1}, "s1")
    assert result["error"] == "INVALID_ARGUMENTS" and gateway.created == []


async def test_asking_again_for_an_unchanged_tab_reuses_the_link(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await _order(toolset)
    first = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    second = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    assert second["url"] == first["url"] and second["reused"] is True
    assert gateway.created == ["plink_1"]


async def test_two_concurrent_requests_make_one_link(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await _order(toolset)
    results = await asyncio.gather(
        *(toolset.call("create_stripe_payment", {}, "s1") for _ in range(5))
    )
    assert {r["result"]["url"] for r in results} == {"https://buy.stripe.com/test_1"}
    assert gateway.created == ["plink_1"]


async def test_a_changed_tab_deactivates_the_old_link_and_makes_a_new_one(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await _order(toolset)
    first = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    await _order(toolset, "Water")
    second = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    assert second["payment_id"] != first["payment_id"]
    assert second["amount_cents"] == 1400
    assert second["replaced_payment_id"] == first["payment_id"]
    assert second["replaced_link_deactivated"] is True
    assert gateway.deactivated == [first["payment_id"]]


async def test_a_failed_deactivation_is_reported_and_the_new_link_still_made(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await _order(toolset)
    await toolset.call("create_stripe_payment", {}, "s1")
    await toolset.call("set_tip", {"percent": 10}, "s1")
    gateway.fail("deactivate", ErrorCode.STRIPE_UNAVAILABLE)
    result = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    assert result["replaced_link_deactivated"] is False and result["payment_id"] == "plink_2"


@pytest.mark.parametrize(
    "code",
    [ErrorCode.STRIPE_UNAVAILABLE, ErrorCode.PAYMENT_LINK_FAILED, ErrorCode.LIVE_MODE_REFUSED],
)
async def test_a_refused_link_is_a_terminal_error_and_a_retry_reuses_the_key(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager, code: ErrorCode
) -> None:
    await _order(toolset)
    gateway.fail("create", code)
    result = await toolset.call("create_stripe_payment", {}, "s1")
    assert result["error"] == code.value and result["retryable"] is False
    assert (await toolset.call("get_bill", {}, "s1"))["result"]["payment"]["url"] is None
    gateway.fail("create", None)
    retry = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    assert retry["payment_id"] == "plink_1"
    state = await manager.get("s1")
    assert len(state.payments) == 1  # the same snapshot, the same idempotency key


async def test_a_link_for_the_wrong_amount_is_deactivated_and_refused(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await _order(toolset)
    gateway.amount_skew_cents = 1
    result = await toolset.call("create_stripe_payment", {}, "s1")
    assert result["error"] == "PAYMENT_LINK_FAILED"
    assert gateway.deactivated == ["plink_1"]


async def test_a_link_made_while_the_tab_changed_is_deactivated(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    """The tab changes (here: another process orders) while Stripe makes the link."""
    await _order(toolset)
    create = gateway.create_payment_link

    async def slow_create(
        amount_cents: int, description: str, idempotency_key: str, **options: Any
    ) -> Any:
        link = await create(amount_cents, description, idempotency_key, **options)
        await manager.order("s1", "Water")
        await manager.begin_payment("s1")  # the other process's own payment attempt
        return link

    gateway.create_payment_link = slow_create  # type: ignore[method-assign]
    result = await toolset.call("create_stripe_payment", {}, "s1")
    assert result["error"] == "PAYMENT_SUPERSEDED" and result["retryable"] is True
    assert gateway.deactivated == ["plink_1"]


async def test_checking_before_any_link_says_there_is_none(toolset: Toolset) -> None:
    result = await toolset.call("check_payment_status", {}, "s1")
    assert result["error"] == "PAYMENT_NOT_FOUND"


async def test_a_payment_id_of_another_session_is_not_found(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await _order(toolset, session="alice")
    alice = (await toolset.call("create_stripe_payment", {}, "alice"))["result"]
    gateway.set_status(alice["payment_id"], "succeeded", amount_paid_cents=1300)
    result = await toolset.call("check_payment_status", {"payment_id": alice["payment_id"]}, "bob")
    assert result["error"] == "PAYMENT_NOT_FOUND"
    assert (await toolset.call("get_bill", {}, "alice"))["result"]["tab_cents"] == 1300


async def test_a_succeeded_payment_settles_once(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    await _order(toolset)
    link = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    pending = (await toolset.call("check_payment_status", {}, "s1"))["result"]
    assert pending["payment_status"] == "pending"
    gateway.set_status(link["payment_id"], "succeeded", amount_paid_cents=1300)
    paid = (await toolset.call("check_payment_status", {}, "s1"))["result"]
    assert paid["payment_status"] == "succeeded" and paid["applied"] is True
    assert paid["amount_paid"] == "$13.00" and paid["tab_cents"] == 0
    settled = (await manager.get("s1")).model_dump_json()
    again = (await toolset.call("check_payment_status", {}, "s1"))["result"]
    assert again["applied"] is False
    assert (await manager.get("s1")).model_dump_json() == settled


async def test_a_declined_payment_is_reported_and_moves_no_money(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    await _order(toolset)
    link = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    gateway.set_status(link["payment_id"], "failed", failure_reason="insufficient_funds")
    result = (await toolset.call("check_payment_status", {}, "s1"))["result"]
    assert result["payment_status"] == "failed"
    assert result["decline_reason"] == "insufficient_funds"
    assert "another card" in result["message"] and "insufficient funds" in result["message"]
    state = await manager.get("s1")
    assert state.tab_cents == 1300 and state.payment_status.value == "failed"


@pytest.mark.parametrize("status", ["timeout", "pending"])
async def test_timeout_and_pending_change_nothing(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager, status: str
) -> None:
    await _order(toolset)
    link = (await toolset.call("create_stripe_payment", {}, "s1"))["result"]
    gateway.set_status(link["payment_id"], status)
    before = (await manager.get("s1")).model_dump_json()
    result = (await toolset.call("check_payment_status", {}, "s1"))["result"]
    assert result["payment_status"] == status and "again" in result["message"]
    assert (await manager.get("s1")).model_dump_json() == before


async def test_a_status_check_that_times_out_is_an_error_that_changes_nothing(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    await _order(toolset)
    await toolset.call("create_stripe_payment", {}, "s1")
    gateway.fail("status", ErrorCode.PAYMENT_STATUS_TIMEOUT)
    before = (await manager.get("s1")).model_dump_json()
    result = await toolset.call("check_payment_status", {}, "s1")
    assert result["error"] == "PAYMENT_STATUS_TIMEOUT" and "again" in result["message"]
    assert (await manager.get("s1")).model_dump_json() == before


async def test_without_a_gateway_payment_goes_another_way(manager: TabManager) -> None:
    toolset = Toolset(manager=manager, payments=None)
    await _order(toolset)
    result = await toolset.call("create_stripe_payment", {}, "s1")
    assert result["error"] == "STRIPE_UNAVAILABLE" and "another way" in result["message"]
