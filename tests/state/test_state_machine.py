"""Random sequences of every tab operation, on every store, against a plain model.

The model below is written from the design, not from ``transitions.py``: plain ints and
lists, its own price table and tip arithmetic. After every step the stored state of each
session must equal the model's, and each call's outcome (result or error code) must be
the one the model predicts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from maya.bar import load_menu
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.models import TabState
from maya.state.store import TabStore
from maya.testing import FakeClock

from ._scenarios import EPOCH
from .conftest import KINDS, drop_schema, make_backend, postgres_url

# Fuzzing and long generated sequences: seconds per test.
pytestmark = pytest.mark.slow

T = TypeVar("T")

START = 15_000  # $150: small enough that orders are refused now and then
SESSIONS = 2

# (what is asked, modifiers asked) -> (unit price, modifiers kept) or an error code.
ORDERS: dict[tuple[str, tuple[str, ...]], tuple[int, tuple[str, ...]] | str] = {
    ("Martini", ()): (1300, ("vodka",)),
    ("martini", ("Gin", "dirty")): (1300, ("gin", "dirty")),
    ("Water", ()): (100, ()),
    ("IPAs", ()): (600, ()),
    ("Brandy", ("neat",)): (900, ("neat",)),
    ("Mojito", ()): "UNKNOWN_ITEM",
    ("Water", ("salty",)): "INVALID_MODIFIER",
    ("Martini", ("gin", "rum")): "INVALID_MODIFIER",
}
QUANTITIES = (0, 1, 1, 2, 5, 20, 21)
# Mostly one session, so that long payment histories build up; the other keeps them apart.
SESSION = st.sampled_from([0, 0, 0, 1])
# Which payment a call names: usually the newest (as the app does), sometimes any, rarely none.
WHICH = st.sampled_from(["newest", "newest", "superseded", "any", "unknown"])


def tip_of(tab: int, percent: int | None) -> int:
    """Half-up percentage in integers."""
    return 0 if percent is None else (tab * percent * 2 + 100) // 200


@dataclass
class Pay:
    """The model of one payment record."""

    key: str
    snap_tab: int
    snap_tip_percent: int | None
    snap_tip: int
    snap_last: int
    snap_version: int
    created_at: int
    payment_id: str | None = None
    url: str | None = None
    simulated: bool = False
    status: str = "pending"
    superseded: bool = False
    amount_paid: int | None = None
    snap_short: int = 0

    def outstanding(self) -> bool:
        return not self.superseded and self.status in ("pending", "failed")


@dataclass
class Tab:
    """The model of one session."""

    written: bool = False
    balance: int = START
    tab: int = 0
    items: list[tuple[int, str, int, int, tuple[str, ...]]] = field(default_factory=list)
    next_seq: int = 1
    tip: int | None = None
    credit: int = 0
    reconcile: bool = False
    short: int = 0
    payments: list[Pay] = field(default_factory=list)
    version: int = 0

    def bump(self) -> None:
        self.version += 1
        self.written = True

    def current(self) -> Pay | None:
        live = [p for p in self.payments if not p.superseded]
        return live[-1] if live else None

    def by_id(self, payment_id: str) -> Pay | None:
        return next((p for p in self.payments if p.payment_id == payment_id), None)

    def observed(self) -> tuple[Any, ...]:
        current = self.current()
        return (
            self.balance,
            self.tab,
            self.items,
            self.next_seq,
            self.tip,
            tip_of(self.tab, self.tip),
            self.tab + tip_of(self.tab, self.tip) + self.short,
            self.credit,
            self.reconcile,
            self.short,
            [
                (
                    p.key,
                    p.payment_id,
                    p.url,
                    p.simulated,
                    p.status,
                    p.superseded,
                    p.amount_paid,
                    (
                        p.snap_tab,
                        p.snap_tip_percent,
                        p.snap_tip,
                        p.snap_last,
                        p.snap_version,
                        p.snap_short,
                    ),
                    p.created_at,
                )
                for p in self.payments
            ],
            "none" if current is None else current.status,
            self.version,
        )


def observe(state: TabState) -> tuple[Any, ...]:
    """The stored state in the model's shape."""
    return (
        state.balance_cents,
        state.tab_cents,
        [(i.seq, i.name, i.unit_price_cents, i.quantity, i.modifiers) for i in state.items],
        state.next_item_seq,
        state.tip_percent,
        state.tip_cents,
        state.total_due_cents,
        state.credit_cents,
        state.needs_reconciliation,
        state.shortfall_cents,
        [
            (
                p.idempotency_key,
                p.payment_id,
                p.url,
                p.is_simulated,
                p.status.value,
                p.superseded,
                p.amount_paid_cents,
                (
                    p.snapshot.tab_cents,
                    p.snapshot.tip_percent,
                    p.snapshot.tip_cents,
                    p.snapshot.last_item_seq,
                    p.snapshot.version,
                    p.snapshot.shortfall_cents,
                ),
                p.snapshot.created_at,
            )
            for p in state.payments
        ],
        state.payment_status.value,
        state.version,
    )


NAMES = {"Martini": "Martini", "martini": "Martini", "Water": "Water", "IPAs": "IPA"}
NAMES["Brandy"] = "Brandy"


class TabMachine(RuleBasedStateMachine):
    """Drives ``TabManager`` over one store; checks it against ``Tab`` models."""

    def __init__(self, portal: BlockingPortal, store: TabStore, reader: TabStore) -> None:
        super().__init__()
        self.portal = portal
        # A second store on the same database: the SQL stores keep the last state they
        # wrote, so what was really written is read back through another one.
        self.reader = reader
        self.clock = FakeClock(EPOCH)
        self.manager = TabManager(
            store, clock=self.clock, starting_balance_cents=START, catalog=load_menu()
        )
        self.store = store
        run_id = uuid.uuid4().hex[:10]
        self.sessions = [f"m{run_id}-{i}" for i in range(SESSIONS)]
        self.models = {s: Tab() for s in self.sessions}
        self.minted = 0

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
        """Run one manager call; its result, or the code of the error it raised."""

        async def run() -> Any:
            return await method(*args, **kwargs)

        try:
            return self.portal.call(run), None
        except StateError as refused:
            return None, refused.code.value

    def expect(self, session: str, outcome: tuple[Any, str | None], code: str | None) -> None:
        result, raised = outcome
        assert raised == code, f"expected {code}, got {raised}"
        if raised is None:
            state = result if isinstance(result, TabState) else result.state
            assert observe(state) == self.models[session].observed()

    @rule(
        session=SESSION,
        asked=st.sampled_from(sorted(ORDERS)),
        quantity=st.sampled_from(QUANTITIES),
    )
    def order(self, session: int, asked: tuple[str, tuple[str, ...]], quantity: int) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        outcome = self.call(self.manager.order, sid, asked[0], quantity, list(asked[1]))
        known = ORDERS[asked]
        code: str | None = None
        if not 1 <= quantity <= 20:
            code = "INVALID_QUANTITY"
        elif isinstance(known, str):
            code = known
        elif known[0] * quantity > model.balance:
            code = "INSUFFICIENT_FUNDS"
        else:
            price, mods = known
            model.items.append((model.next_seq, NAMES[asked[0]], price, quantity, mods))
            model.next_seq += 1
            model.balance -= price * quantity
            model.tab += price * quantity
            model.bump()
        self.expect(sid, outcome, code)

    @rule(
        session=SESSION,
        percent=st.sampled_from([10, 15, 20, None, 0, 5, 25, True]),
        toggle=st.booleans(),
    )
    def set_tip(self, session: int, percent: Any, toggle: bool) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        outcome = self.call(self.manager.set_tip, sid, percent, toggle=toggle)
        code: str | None = None
        if percent is not None and (percent is True or percent not in (10, 15, 20)):
            code = "INVALID_TIP_PERCENTAGE"
        else:
            chosen = None if toggle and percent == model.tip else percent
            if chosen != model.tip:
                model.tip = chosen
                model.bump()
        self.expect(sid, outcome, code)

    @rule(session=SESSION)
    def remove_tip(self, session: int) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        outcome = self.call(self.manager.remove_tip, sid)
        if model.tip is not None:
            model.tip = None
            model.bump()
        self.expect(sid, outcome, None)

    @rule(seconds=st.sampled_from([0, 1, 60]))
    def tick(self, seconds: int) -> None:
        self.clock.now += seconds

    @rule(session=SESSION)
    def begin_payment(self, session: int) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        outcome = self.call(self.manager.begin_payment, sid)
        tip = tip_of(model.tab, model.tip)
        if model.tab + tip + model.short == 0:
            self.expect(sid, outcome, "NOTHING_TO_PAY")
            return
        current = model.current()
        last = model.next_seq - 1
        live = current is not None and current.outstanding()
        if (
            current is not None
            and live
            and (current.snap_tab, current.snap_tip, current.snap_last, current.snap_short)
            == (model.tab, tip, last, model.short)
        ):
            expected_key, reused, superseded = current.key, True, None
            if current.status == "failed":
                current.status = "pending"
                model.bump()
        else:
            now = int(self.clock.now)
            expected_key, reused = f"{sid}_{now}_v{model.version}", False
            new = Pay(expected_key, model.tab, model.tip, tip, last, model.version, now)
            new.snap_short = model.short
            superseded = None
            if current is not None and live:
                current.superseded = True
                superseded = current.key
            model.payments.append(new)
            model.bump()
        self.expect(sid, outcome, None)
        started = outcome[0]
        assert started.payment.idempotency_key == expected_key
        assert started.reused is reused
        assert (started.superseded and started.superseded.idempotency_key) == superseded

    @initialize(drinks=st.lists(st.sampled_from([("Martini", ()), ("Water", ())]), max_size=3))
    def opening_orders(self, drinks: list[tuple[str, tuple[str, ...]]]) -> None:
        """Start most runs with something on the tab, so payments come early."""
        for asked in drinks:
            self.order(0, asked, 1)

    @rule(session=SESSION, paid=st.sampled_from(["none", "exact"]))
    def customer_pays_newest_link(self, session: int, paid: str) -> None:
        """The common happy path, weighted up: the newest link is paid."""
        self.settle(session, "newest", 0, paid)

    @rule(session=SESSION, simulated=st.booleans())
    def pay(self, session: int, simulated: bool) -> None:
        """What the app does when asked to pay: snapshot, then attach the new link."""
        self.begin_payment(session)
        model = self.models[self.sessions[session]]
        if model.payments and model.payments[-1].payment_id is None:
            self.record_link(session, "newest", 0, False, simulated)

    @staticmethod
    def _pick(items: list[T], which: str, index: int) -> T | None:
        if not items or which == "unknown":
            return None
        return items[-1] if which in ("newest", "superseded") else items[index % len(items)]

    @rule(
        session=SESSION,
        which=WHICH,
        index=st.integers(0, 7),
        reuse_id=st.sampled_from([False, False, False, True]),
        simulated=st.booleans(),
    )
    def record_link(
        self, session: int, which: str, index: int, reuse_id: bool, simulated: bool
    ) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        candidates = [p for p in model.payments if p.superseded or which != "superseded"]
        record = self._pick(candidates or model.payments, which, index)
        key = record.key if record is not None else f"{sid}_0_v999"
        taken = [p.payment_id for p in model.payments if p.payment_id is not None]
        if reuse_id and taken:
            payment_id = taken[index % len(taken)]
        else:
            self.minted += 1
            payment_id = f"pl_{sid}_{self.minted}"
        url = f"https://pay.example/{payment_id}"
        outcome = self.call(
            self.manager.record_payment_link,
            sid,
            idempotency_key=key,
            payment_id=payment_id,
            url=url,
            is_simulated=simulated,
        )
        code: str | None = None
        # A real link replaces a simulated stopgap on an unpaid record.
        replaces_simulated = (
            record is not None
            and record.simulated
            and not simulated
            and not record.superseded
            and record.status == "pending"
        )
        if record is None:
            code = "PAYMENT_NOT_FOUND"
        elif record.payment_id == payment_id:
            pass  # the same link again: nothing changes (url follows the id here)
        elif (
            record.superseded
            or (record.payment_id is not None and not replaces_simulated)
            or model.by_id(payment_id)
        ):
            code = "PAYMENT_SUPERSEDED"
        else:
            record.payment_id, record.url, record.simulated = payment_id, url, simulated
            model.bump()
        self.expect(sid, outcome, code)

    def _payment_id(self, sid: str, model: Tab, which: str, index: int) -> str:
        linked = [p for p in model.payments if p.payment_id is not None]
        late = [p for p in linked if p.superseded and p.status != "completed"]
        picked = self._pick(late if which == "superseded" and late else linked, which, index)
        return (
            f"pl_{sid}_unknown"
            if picked is None or picked.payment_id is None
            else picked.payment_id
        )

    @rule(
        session=SESSION,
        which=WHICH,
        index=st.integers(0, 7),
        paid=st.sampled_from(["none", "none", "exact", "more", "less"]),
    )
    def settle(self, session: int, which: str, index: int, paid: str) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        payment_id = self._payment_id(sid, model, which, index)
        record = model.by_id(payment_id)
        due = 0 if record is None else record.snap_tab + record.snap_tip + record.snap_short
        amount = {"none": None, "exact": due, "more": due + 1, "less": max(due - 1, 0)}[paid]
        outcome = self.call(self.manager.settle_payment, sid, payment_id, amount_paid_cents=amount)
        if record is None:
            self.expect(sid, outcome, "PAYMENT_NOT_FOUND")
            return
        applied_now = record.status != "completed"
        applied = credit = short = 0
        if applied_now:
            applied = sum(p * q for seq, _, p, q, _ in model.items if seq <= record.snap_last)
            excess = record.snap_tab - applied
            # The tip on what was paid twice is credited too, in proportion, half-up.
            tip_back = (
                0
                if record.snap_tab == 0
                else ((record.snap_tip * excess * 2 + record.snap_tab) // (2 * record.snap_tab))
            )
            # Money in = money recorded: paid beyond what is still owed is credit, short
            # of it is a shortfall owed on the tab.
            cleared = min(record.snap_short, model.short)
            owed = applied + record.snap_tip - tip_back + cleared
            paid_in = due if amount is None else amount
            credit, short = max(0, paid_in - owed), max(0, owed - paid_in)
            was_superseded = record.superseded
            record.status, record.amount_paid = "completed", amount
            model.items = [i for i in model.items if i[0] > record.snap_last]
            model.tab -= applied
            model.tip = None
            model.short = model.short - cleared + short
            model.credit += credit
            # A newer link that no longer charges what is owed is superseded...
            for other in model.payments:
                if other is not record and other.outstanding():
                    now_due = (other.snap_tab, other.snap_tip, other.snap_last, other.snap_short)
                    if now_due != (model.tab, 0, model.next_seq - 1, model.short):
                        other.superseded = True
            # ...and a late payment that cleared something is the current one again.
            later = model.payments[model.payments.index(record) + 1 :]
            if was_superseded and owed > 0 and all(p.superseded for p in later):
                record.superseded = False
            differs = amount is not None and amount != due
            model.reconcile = (
                model.reconcile or credit > 0 or short > 0 or differs or was_superseded
            )
            model.bump()
        self.expect(sid, outcome, None)
        result = outcome[0]
        assert (
            result.applied,
            result.applied_cents,
            result.credit_cents,
            result.shortfall_cents,
        ) == (applied_now, applied, credit, short)

    @rule(session=SESSION, which=WHICH, index=st.integers(0, 7))
    def mark_failed(self, session: int, which: str, index: int) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        payment_id = self._payment_id(sid, model, which, index)
        record = model.by_id(payment_id)
        outcome = self.call(self.manager.mark_payment_failed, sid, payment_id)
        if record is None:
            self.expect(sid, outcome, "PAYMENT_NOT_FOUND")
            return
        if record.status not in ("completed", "failed"):
            record.status = "failed"
            model.bump()
        self.expect(sid, outcome, None)

    @rule(session=SESSION)
    def reset(self, session: int) -> None:
        sid, model = self.sessions[session], self.models[self.sessions[session]]
        outcome = self.call(self.manager.reset, sid)
        for record in model.payments:
            if record.outstanding():
                record.superseded = True
        model.balance, model.tab, model.items, model.tip, model.short = START, 0, [], None, 0
        # Credit and the reconciliation flag are money owed back: a reset keeps them.
        model.bump()
        self.expect(sid, outcome, None)

    @invariant()
    def stored_state_matches_the_model(self) -> None:
        for sid, model in self.models.items():
            stored = self.portal.call(self.store.load, sid)
            written = self.portal.call(self.reader.load, sid)
            if not model.written:
                assert stored is None and written is None
                continue
            assert stored is not None and written is not None
            assert observe(stored) == model.observed()
            assert observe(written) == model.observed()
            # Money is conserved: what left the balance is on the tab or was paid off.
            assert stored.tab_cents == sum(i.line_cents for i in stored.items)


@contextmanager
def opened(kind: str, tmp_path: Path) -> Iterator[tuple[BlockingPortal, TabStore, TabStore]]:
    """Two stores of ``kind`` on one database and the event loop (in a thread) they use."""
    backend, schema = make_backend(kind, tmp_path)
    try:
        with start_blocking_portal("asyncio") as portal:
            store, reader = backend.open(), backend.open()
            try:
                yield portal, store, reader
            finally:
                portal.call(store.aclose)
                portal.call(reader.aclose)
    finally:
        url = postgres_url()
        if schema is not None and url is not None:
            drop_schema(url, schema)


@pytest.mark.parametrize("kind", KINDS)
def test_random_operation_sequences_match_the_model(kind: str, tmp_path: Path) -> None:
    fast = kind == "memory"
    with opened(kind, tmp_path) as (portal, store, reader):
        run_state_machine_as_test(
            # A factory is accepted (and documented); the stub says a class.
            lambda: TabMachine(portal, store, reader),  # type: ignore[arg-type]
            settings=settings(
                max_examples=150 if fast else 50,
                stateful_step_count=40 if fast else 30,
                deadline=None,
            ),
        )
