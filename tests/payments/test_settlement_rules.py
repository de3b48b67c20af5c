"""The state rules payments added: an overpayment on a settled link, and how a simulated
settlement shows in ``maya state show``."""

from __future__ import annotations

import pytest

from maya.bar import load_menu
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.view import tab_line

pytestmark = pytest.mark.anyio


async def _settled(*, simulated: bool) -> tuple[TabManager, str]:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    await manager.order("s", "Negroni")
    started = await manager.begin_payment("s")
    await manager.record_payment_link(
        "s",
        idempotency_key=started.payment.idempotency_key,
        payment_id="plink_1",
        url="https://buy.stripe.com/test_1",
        is_simulated=simulated,
    )
    await manager.settle_payment("s", "plink_1", amount_paid_cents=1100)
    return manager, "plink_1"


async def test_a_second_payment_on_a_settled_link_becomes_credit_once() -> None:
    manager, link = await _settled(simulated=False)
    first = await manager.record_credit("s", link, amount_received_cents=2200)
    again = await manager.record_credit("s", link, amount_received_cents=2200)
    third = await manager.record_credit("s", link, amount_received_cents=3300)
    assert first.credited_cents == 1100
    assert (first.state.credit_cents, first.state.needs_reconciliation) == (1100, True)
    assert again.credited_cents == 0 and again.state == first.state
    assert third.credited_cents == 1100 and third.state.credit_cents == 2200
    assert "credit $22.00 to refund" in tab_line(third.state)


async def test_nothing_extra_changes_nothing() -> None:
    manager, link = await _settled(simulated=False)
    before = await manager.get("s")
    result = await manager.record_credit("s", link, amount_received_cents=1100)
    assert result.credited_cents == 0
    assert result.state == before


async def test_state_show_says_a_simulated_settlement_moved_no_money() -> None:
    manager, _ = await _settled(simulated=True)
    line = tab_line(await manager.get("s"))
    assert "payment completed (simulated test payment: no money moved)" in line
    real, _ = await _settled(simulated=False)
    assert "simulated" not in tab_line(await real.get("s"))
