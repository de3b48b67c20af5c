"""The TabStore contract, run against every store: memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maya.bar import load_menu
from maya.bar.walkthrough import run_state_demo
from maya.codes import ErrorCode
from maya.money import MAX_CHARGE
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.models import (
    OrderedItem,
    PaymentRecord,
    PaymentSnapshot,
    PaymentStatus,
    TabState,
)
from maya.state.store import Change, TabStore
from maya.testing import FakeClock

from . import _rules as transitions
from ._scenarios import EPOCH, rich_tab
from .conftest import Backend

pytestmark = pytest.mark.anyio


def _fresh(session_id: str) -> TabState:
    return transitions.new_tab(session_id, 100_000)


def _order(
    name: str, price: int, quantity: int = 1, modifiers: tuple[str, ...] = ()
) -> Callable[[TabState], tuple[TabState, str]]:
    def run(state: TabState) -> tuple[TabState, str]:
        new = transitions.order(
            state, name=name, unit_price_cents=price, quantity=quantity, modifiers=modifiers
        )
        return new, f"ordered {name}"

    return run


async def test_a_session_never_written_loads_as_none(store: TabStore) -> None:
    assert await store.load("nobody") is None
    assert await store.session_ids() == []


async def test_transact_persists_the_new_state_and_returns_the_result(store: TabStore) -> None:
    state, result = await store.transact("s1", lambda: _fresh("s1"), _order("Martini", 1300))
    assert result == "ordered Martini"
    assert state.balance_cents == 98_700 and state.tab_cents == 1300 and state.version == 1
    assert await store.load("s1") == state


async def test_transact_returns_the_very_object_the_transition_returned(store: TabStore) -> None:
    returned: list[TabState] = []

    def run(state: TabState) -> tuple[TabState, None]:
        returned.append(transitions.set_tip(state, 10))
        return returned[-1], None

    state, _ = await store.transact("s1", lambda: _fresh("s1"), run)
    assert state is returned[-1]


async def test_an_unchanged_state_is_not_written(store: TabStore) -> None:
    seen: list[TabState] = []

    def nothing(state: TabState) -> tuple[TabState, None]:
        seen.append(state)
        return state, None

    state, _ = await store.transact("new", lambda: _fresh("new"), nothing)
    assert state is seen[-1]
    assert await store.load("new") is None
    assert await store.session_ids() == []

    await store.transact("old", lambda: _fresh("old"), _order("Water", 100))
    before = await store.load("old")
    await store.transact("old", lambda: _fresh("old"), nothing)
    assert await store.load("old") == before


async def test_a_refused_transition_writes_nothing(store: TabStore) -> None:
    with pytest.raises(StateError) as caught:
        await store.transact("s1", lambda: _fresh("s1"), _order("Yacht", 100_001))
    assert caught.value.code is ErrorCode.INSUFFICIENT_FUNDS
    assert await store.load("s1") is None

    await store.transact("s1", lambda: _fresh("s1"), _order("Water", 100))
    before = await store.load("s1")
    with pytest.raises(StateError):
        await store.transact("s1", lambda: _fresh("s1"), _order("Yacht", 100_000))
    assert await store.load("s1") == before


async def test_a_crashing_transition_writes_nothing(store: TabStore) -> None:
    await store.transact("s1", lambda: _fresh("s1"), _order("Water", 100))
    before = await store.load("s1")

    def crash(state: TabState) -> tuple[TabState, None]:
        transitions.order(state, name="Gin", unit_price_cents=800, quantity=1, modifiers=())
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.transact("s1", lambda: _fresh("s1"), crash)
    with pytest.raises(RuntimeError, match="boom"):
        await store.transact("s2", lambda: _fresh("s2"), crash)
    assert await store.load("s1") == before
    assert await store.load("s2") is None


async def test_a_tab_with_everything_on_it_round_trips(store: TabStore) -> None:
    manager = TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu())
    state = await rich_tab(manager, "rich")
    assert await store.load("rich") == state


async def test_settled_items_leave_the_stored_tab(store: TabStore) -> None:
    manager = TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu())
    await manager.order("s1", "Martini")
    await manager.order("s1", "Gin", 2)
    started = await manager.begin_payment("s1")
    await manager.record_payment_link(
        "s1",
        idempotency_key=started.payment.idempotency_key,
        payment_id="plink_s1",
        url="https://buy.stripe.com/test_s1",
        is_simulated=True,
    )
    await manager.order("s1", "Water")
    settled = await manager.settle_payment("s1", "plink_s1")
    loaded = await store.load("s1")
    assert loaded == settled.state
    assert loaded is not None
    assert [item.name for item in loaded.items] == ["Water"]
    assert loaded.tab_cents == 100
    assert loaded.payments[0].status is PaymentStatus.COMPLETED


async def test_the_state_demo_runs_on_every_store(store: TabStore) -> None:
    lines: list[str] = []
    assert await run_state_demo(store, out=lines.append) == 0, "\n".join(lines)


async def test_odd_text_and_large_amounts_round_trip(store: TabStore) -> None:
    odd = ("ü", 'quote " and \\ backslash', "comma, [bracket]", "emoji 🍸", "")
    left = 2**53 + 1  # beyond 32-bit and beyond a float's exact integers
    big = left + MAX_CHARGE

    def initial() -> TabState:
        return transitions.new_tab("odd", big)

    # The tab stays within what one card payment can take; the balance is the big one.
    state, _ = await store.transact("odd", initial, _order("Näme 'x'", MAX_CHARGE, 1, odd))
    loaded = await store.load("odd")
    assert loaded == state
    assert loaded is not None
    assert loaded.balance_cents == left and loaded.items[0].modifiers == odd


async def test_sessions_are_kept_apart(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    await manager.order("a", "Martini")
    await manager.order("b", "Water", 2)
    await manager.reset("a")
    a, b = await store.load("a"), await store.load("b")
    assert a is not None and b is not None
    assert a.items == () and a.tab_cents == 0
    assert [(i.name, i.quantity) for i in b.items] == [("Water", 2)]


async def test_session_ids_lists_written_sessions_sorted(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    for session in ("b", "a", "C", "a-1", "10", "9"):
        await manager.order(session, "Water")
    with pytest.raises(StateError):
        await manager.order("zz", "Water", 1000)
    assert await store.session_ids() == sorted(["b", "a", "C", "a-1", "10", "9"])


async def test_an_initial_state_with_history_is_written_in_full(store: TabStore) -> None:
    snapshot = PaymentSnapshot(
        tab_cents=500, tip_percent=None, tip_cents=0, last_item_seq=1, version=0, created_at=1
    )
    seeded = TabState(
        session_id="seeded",
        balance_cents=9_500,
        tab_cents=500,
        items=(OrderedItem(seq=1, name="Tap Beer", unit_price_cents=500, quantity=1),),
        next_item_seq=2,
        payments=(PaymentRecord(idempotency_key="seeded_1_v0", snapshot=snapshot),),
    )
    state, _ = await store.transact("seeded", lambda: seeded, _order("Water", 100))
    assert await store.load("seeded") == state
    assert len(state.items) == 2 and len(state.payments) == 1


async def test_any_new_state_is_stored_exactly_even_rewritten_history(store: TabStore) -> None:
    manager = TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu())
    state = await rich_tab(manager, "h")

    def rewrite(current: TabState) -> tuple[TabState, None]:
        # Not something the rules do; the store must still persist exactly what it got.
        first = current.items[0].model_copy(update={"quantity": 5, "modifiers": ("x",)})
        return current.model_copy(
            update={
                "items": (first, *current.items[1:]),
                "payments": current.payments[1:],
                "version": current.version + 1,
            }
        ), None

    rewritten, _ = await store.transact("h", lambda: _fresh("h"), rewrite)
    assert rewritten != state
    assert await store.load("h") == rewritten


async def test_closing_is_idempotent_and_async_with_closes(backend: Backend) -> None:
    store = backend.open()
    await TabManager(store, catalog=load_menu()).order("s", "Water")
    await store.aclose()
    await store.aclose()
    if backend.kind != "memory":
        async with backend.open() as again:  # type: ignore[attr-defined]
            assert (await again.load("s")).tab_cents == 100


async def test_a_new_state_must_raise_the_version(store: TabStore) -> None:
    await store.transact("s1", lambda: _fresh("s1"), _order("Water", 100))
    before = await store.load("s1")

    def unversioned(state: TabState) -> tuple[TabState, None]:
        return state.model_copy(update={"tab_cents": 0}), None

    with pytest.raises(ValueError, match="version"):
        await store.transact("s1", lambda: _fresh("s1"), unversioned)
    assert await store.load("s1") == before


async def test_a_change_and_a_bare_state_are_stored_alike(store: TabStore) -> None:
    def as_change(state: TabState) -> tuple[Change, None]:
        return transitions.order_change(
            state, name="Gin", unit_price_cents=800, quantity=2, modifiers=("neat",)
        ), None

    by_change, _ = await store.transact("c", lambda: _fresh("c"), as_change)
    by_state, _ = await store.transact("b", lambda: _fresh("b"), _order("Gin", 800, 2, ("neat",)))
    assert by_change.model_copy(update={"session_id": "b"}) == by_state
    assert await store.load("c") == by_change
    # A Change made from some other state than the one handed over is stored by comparison.
    stale = transitions.new_tab("c", 100_000)

    def foreign(state: TabState) -> tuple[Change, None]:
        after = transitions.order(
            state, name="Water", unit_price_cents=100, quantity=1, modifiers=()
        )
        return Change(stale, after, added_items=()), None

    state, _ = await store.transact("c", lambda: _fresh("c"), foreign)
    assert [i.name for i in state.items] == ["Gin", "Water"]
    assert await store.load("c") == state
