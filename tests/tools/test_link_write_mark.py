"""The durable "link write sent" mark, as the payment tools keep it (scripted gateway).

Across real processes and the real sandbox: tests/payments/test_pay_across_processes.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from scripted_gateway import ScriptedGateway

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.payments import PaymentLinkCreationError
from maya.state import MemoryTabStore, TabManager
from maya.state.models import PaymentRecord
from maya.testing import FakeClock
from maya.tools import Toolset

pytestmark = pytest.mark.anyio

SESSION = "s1"


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(1_700_000_000.0)


@pytest.fixture
def manager(wall: FakeClock) -> TabManager:
    return TabManager(MemoryTabStore(), clock=wall, catalog=load_menu())


@pytest.fixture
def toolset(manager: TabManager, gateway: ScriptedGateway, wall: FakeClock) -> Toolset:
    made = Toolset(manager=manager, payments=gateway)
    made.context.sleep = wall.sleep
    return made


async def _pay(toolset: Toolset) -> dict[str, Any]:
    return await toolset.call("create_stripe_payment", {}, SESSION)


async def _record(manager: TabManager) -> PaymentRecord:
    current = (await manager.get(SESSION)).current_payment
    assert current is not None
    return current


async def test_a_write_that_may_have_made_a_link_is_looked_up_not_repeated(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    await manager.order(SESSION, "Martini")
    gateway.fail_after_mark = PaymentLinkCreationError("lost reply", link_maybe_created=True)
    gateway.made_before_failing = True
    lost = await _pay(toolset)
    assert lost["error"] == ErrorCode.PAYMENT_LINK_FAILED
    record = await _record(manager)
    assert record.payment_id is None and record.link_write_sent  # the mark outlived the call
    found = (await _pay(toolset))["result"]
    assert found["payment_id"] == "plink_1" and gateway.created == ["plink_1"]


async def test_a_write_that_made_nothing_clears_its_mark(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager
) -> None:
    await manager.order(SESSION, "Martini")
    gateway.fail_after_mark = PaymentLinkCreationError("refused", link_maybe_created=False)
    assert (await _pay(toolset))["status"] == "error"
    assert not (await _record(manager)).link_write_sent
    made = (await _pay(toolset))["result"]
    assert made["payment_id"] == "plink_1" and gateway.created == ["plink_1"]


async def _foreign_write(manager: TabManager, *, within_s: float) -> PaymentRecord:
    """Another process took the snapshot and marked its write (it is in flight)."""
    record = (await manager.begin_payment(SESSION)).payment
    _, mark = await manager.mark_link_write(
        SESSION, idempotency_key=record.idempotency_key, expected=None, within_s=within_s
    )
    assert mark is not None
    return record


async def test_pay_waits_for_another_process_whose_write_is_in_flight(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager, wall: FakeClock
) -> None:
    await manager.order(SESSION, "Martini")
    record = await _foreign_write(manager, within_s=10.0)
    sleep = wall.sleep

    async def other_process_finishes(seconds: float) -> None:
        await sleep(seconds)
        if len(wall.sleeps) == 3:
            await manager.record_payment_link(
                SESSION,
                idempotency_key=record.idempotency_key,
                payment_id="plink_other",
                url="https://buy.stripe.com/test_other",
                is_simulated=False,
            )

    toolset.context.sleep = other_process_finishes
    answer = (await _pay(toolset))["result"]
    assert answer["payment_id"] == "plink_other" and answer["reused"] is True
    assert gateway.created == []  # no second write while the first was in flight
    assert len(wall.sleeps) == 3


async def test_a_mark_left_by_a_dead_process_runs_out_then_the_link_is_looked_up_and_made(
    toolset: Toolset, gateway: ScriptedGateway, manager: TabManager, wall: FakeClock
) -> None:
    await manager.order(SESSION, "Martini")
    record = await _foreign_write(manager, within_s=1.0)
    assert record.link_write_until is None  # (the snapshot before the mark)
    answer = (await _pay(toolset))["result"]
    assert answer["payment_id"] == "plink_1" and gateway.created == ["plink_1"]
    assert sum(wall.sleeps) >= 1.0  # it waited for the other write's bound to pass
    assert (await _record(manager)).payment_id == "plink_1"
