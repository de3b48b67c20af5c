"""Shared steps for the state tests: a tab with a bit of everything on it."""

from __future__ import annotations

from maya.state.manager import TabManager
from maya.state.models import TabState

EPOCH = 1_700_000_000.0
"""Where the state tests' ``FakeClock`` starts (payment snapshots read it)."""


async def rich_tab(manager: TabManager, session_id: str) -> TabState:
    """Orders, a tip, a superseded link paid late (credit), a failed and a pending link."""
    await manager.order(session_id, "Martini", 2, ["Gin", "dirty"])
    await manager.order(session_id, "long island", 1)
    await manager.set_tip(session_id, 20)
    first = await manager.begin_payment(session_id)
    await manager.record_payment_link(
        session_id,
        idempotency_key=first.payment.idempotency_key,
        payment_id=f"plink_{session_id}_1",
        url="https://buy.stripe.com/test_1",
        is_simulated=True,
    )
    await manager.order(session_id, "Water", 3)
    second = await manager.begin_payment(session_id)
    assert second.superseded is not None
    await manager.record_payment_link(
        session_id,
        idempotency_key=second.payment.idempotency_key,
        payment_id=f"plink_{session_id}_2",
        url="https://buy.stripe.com/test_2",
        is_simulated=False,
    )
    await manager.settle_payment(session_id, f"plink_{session_id}_2", amount_paid_cents=4560)
    # The superseded link is paid too, late: applied once, as credit.
    await manager.settle_payment(session_id, f"plink_{session_id}_1")
    await manager.order(session_id, "IPA", 2, ["with a chaser"])
    third = await manager.begin_payment(session_id)
    await manager.record_payment_link(
        session_id,
        idempotency_key=third.payment.idempotency_key,
        payment_id=f"plink_{session_id}_3",
        url="https://buy.stripe.com/test_3",
        is_simulated=True,
    )
    await manager.mark_payment_failed(session_id, f"plink_{session_id}_3")
    await manager.set_tip(session_id, 15)
    state = await manager.get(session_id)
    assert state.credit_cents > 0 and state.needs_reconciliation
    assert len(state.payments) == 3 and state.items and state.tip_percent == 15
    return state
