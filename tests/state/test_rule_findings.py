"""Rules the state machine and review found wrong once: each test pins the fixed behaviour."""

from __future__ import annotations

from decimal import Decimal

import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.models import TabState

from . import _rules as transitions


def _linked(state: TabState, payment_id: str) -> TabState:
    state, start = transitions.begin_payment(state, now=1_700_000_000)
    return transitions.record_payment_link(
        state,
        idempotency_key=start.payment.idempotency_key,
        payment_id=payment_id,
        url="https://buy.stripe.com/test_x",
        is_simulated=True,
    )


def _drink(state: TabState, cents: int) -> TabState:
    return transitions.order(state, name="Drink", unit_price_cents=cents, quantity=1, modifiers=())


def _credit_after_a_late_superseded_payment() -> TabState:
    state = _linked(_drink(transitions.new_tab("s", 100_000), 1000), "plink_old")
    state = _linked(_drink(state, 500), "plink_new")
    state, _ = transitions.settle_payment(state, payment_id="plink_new")
    state, _ = transitions.settle_payment(state, payment_id="plink_old")
    assert state.credit_cents == 1000 and state.needs_reconciliation
    return state


def test_reset_keeps_money_the_customer_overpaid() -> None:
    # Credit is real money paid through Stripe; "start over" should not erase the only
    # record that it is owed back, nor the flag that asks a person to reconcile it.
    state = transitions.reset(_credit_after_a_late_superseded_payment(), balance_cents=100_000)
    assert state.credit_cents == 1000
    assert state.needs_reconciliation


def test_a_superseded_link_paid_late_credits_its_tip_too() -> None:
    # $10 + 20% tip = $12 on the old link; the new link covers it all again. Paying both
    # overpays $12, but only the $10 tab part becomes credit: $2 is lost to reconciliation.
    state = transitions.set_tip(_drink(transitions.new_tab("s", 100_000), 1000), 20)
    state = _linked(state, "plink_old")
    state = _linked(_drink(state, 500), "plink_new")
    state, _ = transitions.settle_payment(state, payment_id="plink_new")
    state, settled = transitions.settle_payment(state, payment_id="plink_old")
    assert settled.credit_cents == 1200
    assert state.credit_cents == 1200


@pytest.mark.parametrize("percent", [15.0, Decimal(15)])
def test_a_tip_percentage_is_an_int(percent: object) -> None:
    # `15.0 in (10, 15, 20)` is True, so a float from JSON passes the check and lands in
    # the state (model_copy does not validate), typed Literal[10, 15, 20].
    state = _drink(transitions.new_tab("s", 100_000), 1000)
    try:
        tipped = transitions.set_tip(state, percent)  # type: ignore[arg-type]
    except StateError as refused:
        assert refused.code is ErrorCode.INVALID_TIP_PERCENTAGE
    else:
        assert type(tipped.tip_percent) is int


@pytest.mark.anyio
async def test_a_modifier_that_is_not_text_is_refused_not_a_crash() -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    with pytest.raises(StateError) as refused:
        await manager.order("s", "Martini", 1, [None])  # type: ignore[list-item]
    assert refused.value.code is ErrorCode.INVALID_MODIFIER
