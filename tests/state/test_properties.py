"""Properties of the tab's rules, checked on many generated cases.

They run on the pure transitions and on ``TabManager`` over the memory store, which is
fast; the state machine tests drive the same rules through the SQL stores.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maya.bar.menu import load_menu
from maya.bar.settings import MAX_QUANTITY
from maya.codes import ErrorCode
from maya.money import MAX_CHARGE
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.models import PaymentStatus, TabState
from maya.testing import FakeClock

from . import _rules as transitions

EXAMPLES = settings(max_examples=200, deadline=None)
T = TypeVar("T")

MENU = load_menu()
item_names = st.sampled_from([item.name for item in MENU.items])
quantities = st.integers(min_value=1, max_value=MAX_QUANTITY)
orders = st.lists(st.tuples(item_names, quantities), max_size=25)
balances = st.integers(min_value=0, max_value=60_000)
tip_choices = st.sampled_from([10, 15, 20])


def run(make: Callable[[], Awaitable[T]]) -> T:
    """Run one async example to completion (Hypothesis drives sync functions)."""

    async def main() -> T:
        return await make()

    return anyio.run(main)


def price(name: str) -> int:
    return MENU.find(name).price_cents


def tab_with(tab_cents: int, *, balance: int = 0) -> TabState:
    """A state whose tab is exactly ``tab_cents`` (one line), built by the rules."""
    state = transitions.new_tab("p", balance + tab_cents)
    if tab_cents == 0:
        return state
    return transitions.order(
        state, name="Bespoke", unit_price_cents=tab_cents, quantity=1, modifiers=()
    )


@EXAMPLES
@given(start=balances, wanted=orders)
def test_balance_moves_to_the_tab_exactly(start: int, wanted: list[tuple[str, int]]) -> None:
    async def scenario() -> None:
        manager = TabManager(MemoryTabStore(), starting_balance_cents=start, catalog=load_menu())
        accepted: list[int] = []
        for name, quantity in wanted:
            before = await manager.get("p")
            cost = price(name) * quantity
            try:
                after = await manager.order("p", name, quantity)
            except StateError as refused:
                assert refused.code is ErrorCode.INSUFFICIENT_FUNDS
                assert cost > before.balance_cents
                continue
            accepted.append(cost)
            assert after.balance_cents == before.balance_cents - cost
            assert after.tab_cents == before.tab_cents + cost
        final = await manager.get("p")
        assert final.tab_cents == sum(accepted) == sum(i.line_cents for i in final.items)
        assert final.balance_cents == start - sum(accepted)
        assert len(final.items) == len(accepted) and final.version == len(accepted)

    run(scenario)


@EXAMPLES
@given(start=balances, before=orders, name=item_names, quantity=quantities)
def test_insufficient_funds_changes_nothing_at_all(
    start: int, before: list[tuple[str, int]], name: str, quantity: int
) -> None:
    async def scenario() -> None:
        store = MemoryTabStore()
        manager = TabManager(store, starting_balance_cents=start, catalog=load_menu())
        for earlier, count in before:
            with contextlib.suppress(StateError):
                await manager.order("p", earlier, count)
        state = await manager.get("p")
        stored = await store.load("p")
        cost = price(name) * quantity
        try:
            await manager.order("p", name, quantity)
        except StateError as refused:
            assert cost > state.balance_cents
            assert refused.code is ErrorCode.INSUFFICIENT_FUNDS
            assert refused.details["shortfall"] == f"${(cost - state.balance_cents) / 100:,.2f}"
            assert await store.load("p") == stored
            assert await manager.get("p") == state
        else:
            assert cost <= state.balance_cents

    run(scenario)


@EXAMPLES
@given(tab=st.integers(min_value=0, max_value=MAX_CHARGE), percent=tip_choices)
def test_tip_is_the_tab_times_the_percentage_rounded_half_up(tab: int, percent: int) -> None:
    state = transitions.set_tip(tab_with(tab), percent)
    assert state.tip_percent == percent
    assert state.tip_cents == (tab * percent * 2 + 100) // 200
    assert state.total_due_cents == state.tab_cents + state.tip_cents


@EXAMPLES
@given(
    tab=st.integers(min_value=0, max_value=MAX_CHARGE),
    price=st.integers(min_value=1, max_value=MAX_CHARGE),
    quantity=st.integers(min_value=1, max_value=100),
)
def test_an_order_past_what_one_card_payment_can_take_is_refused_and_changes_nothing(
    tab: int, price: int, quantity: int
) -> None:
    before = tab_with(tab)

    def order() -> TabState:
        return transitions.order(
            before,
            name="More",
            unit_price_cents=price,
            quantity=quantity,
            modifiers=(),
            prepaid=False,
        )

    if tab + price * quantity <= MAX_CHARGE:
        assert order().tab_cents == tab + price * quantity
        return
    with pytest.raises(StateError) as refused:
        order()
    assert refused.value.code is ErrorCode.BILL_NOT_PAYABLE
    assert refused.value.details["max"] == "$999,999.99"


@EXAMPLES
@given(
    tab=st.integers(min_value=1, max_value=MAX_CHARGE // 10).map(lambda n: n * 10),
    percent=tip_choices,
)
def test_a_three_decimal_tip_is_rounded_half_up_to_ten_minor_units(tab: int, percent: int) -> None:
    """KWD is charged only in steps of 0.010: the tip rounds half-up to them, so the bill
    a link charges is always one a card payment can take."""
    state = transitions.order(
        transitions.new_tab("k", 0, currency="kwd"),
        name="Bespoke",
        unit_price_cents=tab,
        quantity=1,
        modifiers=(),
        prepaid=False,
    )
    tipped = transitions.set_tip(state, percent)
    assert tipped.tip_cents == (tab * percent * 2 + 1000) // 2000 * 10
    assert tipped.total_due_cents % 10 == 0


@EXAMPLES
@given(
    tab=st.integers(min_value=0, max_value=MAX_CHARGE),
    first=st.sampled_from([None, 10, 15, 20]),
    percent=tip_choices,
)
def test_choosing_the_selected_tip_again_removes_it(
    tab: int, first: int | None, percent: int
) -> None:
    start = transitions.set_tip(tab_with(tab), first)
    if first == percent:
        start = transitions.set_tip(start, None)
    chosen = transitions.set_tip(start, percent)
    again = transitions.set_tip(chosen, percent)
    assert chosen.tip_percent == percent
    assert again.tip_percent is None and again.tip_cents == 0
    assert again.version == chosen.version + 1
    assert again.total_due_cents == again.tab_cents == tab
    # Without toggling, the same percentage is kept and nothing is written.
    assert transitions.set_tip(chosen, percent, toggle=False) is chosen


@EXAMPLES
@given(bad=st.one_of(st.integers(), st.booleans(), st.text(max_size=5), st.floats()))
def test_only_ten_fifteen_twenty_or_none_are_tips(bad: object) -> None:
    state = tab_with(1000)
    if bad in (10, 15, 20) and not isinstance(bad, bool):
        return
    try:
        transitions.set_tip(state, bad)  # type: ignore[arg-type]
    except StateError as refused:
        assert refused.code is ErrorCode.INVALID_TIP_PERCENTAGE
    else:
        raise AssertionError(f"{bad!r} was accepted as a tip")


def _paid(state: TabState, payment_id: str) -> TabState:
    state, start = transitions.begin_payment(state, now=1_700_000_000)
    return transitions.record_payment_link(
        state,
        idempotency_key=start.payment.idempotency_key,
        payment_id=payment_id,
        url=f"https://buy.stripe.com/test_{payment_id}",
        is_simulated=True,
    )


def _ordered(state: TabState, wanted: list[tuple[str, int]]) -> TabState:
    for name, quantity in wanted:
        with contextlib.suppress(StateError):
            state = transitions.order(
                state, name=name, unit_price_cents=price(name), quantity=quantity, modifiers=()
            )
    return state


@EXAMPLES
@given(before=orders.filter(bool), after=orders, tip=st.sampled_from([None, 10, 15, 20]))
def test_settlement_clears_what_the_link_covered_and_the_tip(
    before: list[tuple[str, int]], after: list[tuple[str, int]], tip: int | None
) -> None:
    state = transitions.set_tip(_ordered(transitions.new_tab("p", 10**9), before), tip)
    state = _paid(state, "plink_a")
    snapshot = state.payments[-1].snapshot
    state = _ordered(state, after)
    late = [i for i in state.items if i.seq > snapshot.last_item_seq]
    settled, result = transitions.settle_payment(state, payment_id="plink_a")
    assert result.applied and result.applied_cents == snapshot.tab_cents
    assert result.credit_cents == 0
    assert settled.tab_cents == sum(i.line_cents for i in late)
    assert settled.items == tuple(late)
    assert settled.tip_percent is None and settled.tip_cents == 0
    assert settled.balance_cents == state.balance_cents
    assert settled.payments[-1].status is PaymentStatus.COMPLETED
    assert not settled.needs_reconciliation

    twice, again = transitions.settle_payment(settled, payment_id="plink_a")
    assert twice is settled and not again.applied


@EXAMPLES
@given(
    first=orders.filter(bool),
    second=orders.filter(bool),
    pay_order=st.sampled_from(["old-then-new", "new-then-old", "old-only", "old-twice"]),
)
def test_a_superseded_link_paid_late_is_applied_once_and_never_lost(
    first: list[tuple[str, int]], second: list[tuple[str, int]], pay_order: str
) -> None:
    state = _paid(_ordered(transitions.new_tab("p", 10**9), first), "plink_old")
    changed = _ordered(state, second)
    if changed.tab_cents == state.tab_cents:
        return  # nothing new was affordable, so no new link supersedes the old one
    state = _paid(changed, "plink_new")
    old, new = state.payments
    assert old.superseded and not new.superseded
    ids = {
        "old-then-new": ["plink_old", "plink_new"],
        "new-then-old": ["plink_new", "plink_old"],
        "old-only": ["plink_old"],
        "old-twice": ["plink_old", "plink_old"],
    }[pay_order]
    owed = state.tab_cents
    paid = 0
    for payment_id in ids:
        state, result = transitions.settle_payment(state, payment_id=payment_id)
        if result.applied:
            paid += state.find_payment(payment_id).snapshot.tab_cents  # type: ignore[union-attr]
    # Every cent paid either cleared the tab or is kept as credit: nothing lost, nothing twice.
    assert paid == (owed - state.tab_cents) + state.credit_cents
    assert state.needs_reconciliation
    assert state.find_payment("plink_old").settled  # type: ignore[union-attr]
    if "new" in pay_order:
        # Both links paid: the old link's part was paid twice and is kept as credit.
        assert state.credit_cents == old.snapshot.tab_cents
        assert state.tab_cents == 0
    else:
        assert state.credit_cents == 0
        assert state.tab_cents == owed - old.snapshot.tab_cents


@EXAMPLES
@given(wanted=orders.filter(bool), failures=st.integers(min_value=0, max_value=3))
def test_failed_payments_move_no_money(wanted: list[tuple[str, int]], failures: int) -> None:
    state = _paid(_ordered(transitions.new_tab("p", 10**9), wanted), "plink_f")
    before = state
    for _ in range(failures):
        state = transitions.mark_payment_failed(state, payment_id="plink_f")
    assert (state.balance_cents, state.tab_cents, state.items, state.credit_cents) == (
        before.balance_cents,
        before.tab_cents,
        before.items,
        before.credit_cents,
    )
    # Asking to pay again after a decline reuses the same link.
    again, start = transitions.begin_payment(state, now=1_700_000_100)
    assert start.reused and start.payment.payment_id == "plink_f"
    assert again.payment_status is PaymentStatus.PENDING


@EXAMPLES
@given(wanted=orders, percent=st.sampled_from([None, 10, 15, 20]))
def test_begin_payment_snapshots_exactly_what_is_due(
    wanted: list[tuple[str, int]], percent: int | None
) -> None:
    state = transitions.set_tip(_ordered(transitions.new_tab("p", 50_000), wanted), percent)
    try:
        after, start = transitions.begin_payment(state, now=1_700_000_000)
    except StateError as refused:
        assert refused.code is ErrorCode.NOTHING_TO_PAY and state.total_due_cents == 0
        return
    assert start.payment.snapshot.amount_cents == state.total_due_cents
    again, repeat = transitions.begin_payment(after, now=1_700_000_500)
    assert repeat.reused and again is after
    assert repeat.payment.idempotency_key == start.payment.idempotency_key


def test_clock_helper_is_stable() -> None:
    clock = FakeClock(5.0)
    assert clock() == 5.0
