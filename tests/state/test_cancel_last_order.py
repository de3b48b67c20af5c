"""Cancelling the last order, on every store (memory, SQLite, PostgreSQL): the line leaves
the tab and its cost goes back to the balance; with nothing to cancel, or while a payment
link that covers the line may be paid, it is refused and nothing changes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.models import STARTING_BALANCE_CENTS, TabState
from maya.state.store import TabStore

from . import _rules as transitions
from .conftest import Backend

pytestmark = pytest.mark.anyio

SESSION = "cancel-1"


@pytest.fixture
async def manager(backend: Backend) -> AsyncIterator[TabManager]:
    store: TabStore = backend.open()
    try:
        yield TabManager(store, clock=lambda: 1_800_000_000.0, catalog=load_menu())
    finally:
        await store.aclose()


async def test_the_last_line_leaves_and_its_cost_returns(manager: TabManager) -> None:
    await manager.order(SESSION, "Martini", 2, ["gin"])
    await manager.order(SESSION, "IPA", 3)
    before = await manager.get(SESSION)
    cancelled = await manager.cancel_last_order(SESSION)
    assert (cancelled.item.name, cancelled.item.quantity) == ("IPA", 3)
    state = cancelled.state
    assert state.balance_cents == before.balance_cents + 1800
    assert state.tab_cents == before.tab_cents - 1800 == 2600
    assert [i.name for i in state.items] == ["Martini"]
    assert state.version == before.version + 1
    assert await manager.get(SESSION) == state  # persisted as returned


async def test_cancelling_everything_gives_the_whole_balance_back(manager: TabManager) -> None:
    await manager.order(SESSION, "Water")
    await manager.order(SESSION, "Negroni")
    await manager.set_tip(SESSION, 20)
    await manager.cancel_last_order(SESSION)
    state = (await manager.cancel_last_order(SESSION)).state
    assert state.balance_cents == STARTING_BALANCE_CENTS and state.tab_cents == 0
    assert state.items == () and state.tip_cents == 0 and state.next_item_seq == 3


async def test_nothing_to_cancel_is_refused(manager: TabManager) -> None:
    with pytest.raises(StateError) as caught:
        await manager.cancel_last_order(SESSION)
    assert caught.value.code is ErrorCode.NOTHING_TO_CANCEL
    assert await manager.store.load(SESSION) is None


async def test_a_line_on_a_pending_link_is_not_cancelled(manager: TabManager) -> None:
    await manager.order(SESSION, "Martini")
    await manager.begin_payment(SESSION)
    before = await manager.get(SESSION)
    with pytest.raises(StateError) as caught:
        await manager.cancel_last_order(SESSION)
    assert caught.value.code is ErrorCode.PAYMENT_PENDING
    assert caught.value.details["item"] == "Martini"
    assert caught.value.details["amount"] == "$13.00"
    assert await manager.get(SESSION) == before


async def test_a_line_on_a_declined_link_is_not_cancelled_either(manager: TabManager) -> None:
    # A declined card leaves the link payable with another card.
    await manager.order(SESSION, "Martini")
    started = await manager.begin_payment(SESSION)
    await manager.record_payment_link(
        SESSION,
        idempotency_key=started.payment.idempotency_key,
        payment_id="plink_1",
        url="https://buy.stripe.com/test_1",
        is_simulated=False,
    )
    await manager.mark_payment_failed(SESSION, "plink_1")
    with pytest.raises(StateError) as caught:
        await manager.cancel_last_order(SESSION)
    assert caught.value.code is ErrorCode.PAYMENT_PENDING


async def test_a_line_ordered_after_the_link_can_be_cancelled(manager: TabManager) -> None:
    await manager.order(SESSION, "Martini")
    await manager.begin_payment(SESSION)
    await manager.order(SESSION, "Water")
    state = (await manager.cancel_last_order(SESSION)).state
    assert [i.name for i in state.items] == ["Martini"] and state.tab_cents == 1300
    # Paying again makes a link for what is due now; the earlier one is superseded.
    again = await manager.begin_payment(SESSION)
    assert again.payment.snapshot.amount_cents == 1300 and again.superseded is not None


async def test_after_settlement_the_remaining_line_can_be_cancelled(manager: TabManager) -> None:
    await manager.order(SESSION, "Martini")
    started = await manager.begin_payment(SESSION)
    await manager.record_payment_link(
        SESSION,
        idempotency_key=started.payment.idempotency_key,
        payment_id="plink_2",
        url="https://buy.stripe.com/test_2",
        is_simulated=False,
    )
    await manager.order(SESSION, "Water")
    await manager.settle_payment(SESSION, "plink_2")
    state = (await manager.cancel_last_order(SESSION)).state
    assert state.items == () and state.tab_cents == 0
    assert state.balance_cents == STARTING_BALANCE_CENTS - 1300
    with pytest.raises(StateError) as caught:
        await manager.cancel_last_order(SESSION)
    assert caught.value.code is ErrorCode.NOTHING_TO_CANCEL


PRICES = st.lists(st.integers(1, 5_000), min_size=0, max_size=6)


@settings(max_examples=200, deadline=None)
@given(prices=PRICES, pending_at=st.none() | st.integers(0, 6))
def test_the_pure_rule_refunds_exactly_or_changes_nothing(
    prices: list[int], pending_at: int | None
) -> None:
    state = transitions.new_tab("p", 100_000)
    for index, price in enumerate(prices):
        state = transitions.order(
            state, name=f"d{index}", unit_price_cents=price, quantity=1, modifiers=()
        )
        if pending_at == index:
            state, _ = transitions.begin_payment(state, now=1)
    try:
        after, item = transitions.cancel_last_order(state)
    except StateError as error:
        assert error.code in (ErrorCode.NOTHING_TO_CANCEL, ErrorCode.PAYMENT_PENDING)
        if error.code is ErrorCode.NOTHING_TO_CANCEL:
            assert not prices
        else:
            assert pending_at is not None and pending_at == len(prices) - 1
        return
    assert item == state.items[-1]
    assert after.balance_cents + after.tab_cents == state.balance_cents + state.tab_cents
    assert after.balance_cents == state.balance_cents + item.line_cents
    assert after.items == state.items[:-1] and after.next_item_seq == state.next_item_seq
    assert after.payments == state.payments
    assert _same_money(after) and _same_money(state)


def _same_money(state: TabState) -> bool:
    return state.tab_cents == sum(i.line_cents for i in state.items)
