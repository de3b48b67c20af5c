"""Money in = money recorded, whatever Stripe does with two links of one tab.

Random interleavings of pay (exact, short, over), re-pay (another Checkout Session on
the same link), expiry, redelivery, more orders and the deactivation of stale links
succeeding or failing, on memory, SQLite and PostgreSQL. After every step:

- every cent collected is either applied to the tab or credit to refund, where applied
  is what was ordered less what is still owed (tab + shortfall):
  ``collected == ordered - tab - shortfall + credit``;
- no link is offered for more than is due: an open, unpaid link is either the current
  payment (charging at most the total due) or named as open but not owed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maya.bar import load_menu
from maya.state.events import REFUSED_OUTCOMES, EventOutcome, PaymentEvent
from maya.state.manager import TabManager
from maya.state.models import TabState
from state.conftest import Backend

EXAMPLES = {"memory": 150, "sqlite": 30, "postgres": 15}

Step = tuple[str, int, str]
STEPS = st.one_of(
    st.tuples(st.just("pay"), st.integers(0, 1), st.sampled_from(["exact", "short", "over"])),
    st.tuples(st.just("repay"), st.integers(0, 1), st.sampled_from(["exact", "short", "over"])),
    st.tuples(st.just("expire"), st.integers(0, 1), st.just("")),
    st.tuples(st.just("redeliver"), st.integers(0, 30), st.just("")),
    st.tuples(st.just("order"), st.just(0), st.sampled_from(["Water", "Tap Beer"])),
    st.tuples(st.just("close"), st.just(0), st.sampled_from(["closed", "refused"])),
)
PRICES = {"Martini": 1300, "Tap Beer": 500, "Water": 100}


@dataclass
class Ledger:
    """What Stripe did, from outside Maya: events sent and money collected."""

    ordered: int = 0
    collected: int = 0
    sent: list[PaymentEvent] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)  # per link: Checkout Sessions


def check(state: TabState, ledger: Ledger) -> None:
    owed = state.tab_cents + state.shortfall_cents
    assert state.tip_cents == 0  # no tip in these runs: what is owed is tab + shortfall
    assert ledger.collected == ledger.ordered - owed + state.credit_cents
    stale = {r.payment_id for r in state.stale_links}
    for record in state.payments:
        if record.payment_id is None or record.settled or record.link_closed:
            continue
        if record.superseded:
            assert record.payment_id in stale
        else:
            assert record.snapshot.amount_cents <= state.total_due_cents
    current = state.current_payment
    assert current is None or not current.superseded


async def run(manager: TabManager, steps: list[Step]) -> None:
    run_id = uuid.uuid4().hex[:10]
    sid = f"prop-{run_id}"
    ledger = Ledger()
    links: list[str] = []

    async def order(name: str, quantity: int = 1) -> None:
        await manager.order(sid, name, quantity)
        ledger.ordered += PRICES[name] * quantity

    async def pay_link() -> None:
        started = await manager.begin_payment(sid)
        link = f"plink_{run_id}_{len(links)}"
        await manager.record_payment_link(
            sid,
            idempotency_key=started.payment.idempotency_key,
            payment_id=link,
            url=f"https://buy.stripe.com/test_{link}",
            is_simulated=False,
        )
        links.append(link)

    async def send(event: PaymentEvent) -> EventOutcome:
        result = await manager.apply_payment_event(event, livemode=False)
        if result.outcome is not EventOutcome.DUPLICATE:
            ledger.sent.append(event)
            if event.paid and result.outcome not in REFUSED_OUTCOMES:
                ledger.collected += event.amount_total or 0
        return result.outcome

    await order("Martini", 2)
    await order("Tap Beer")
    await pay_link()  # L1: $31
    await order("Tap Beer")
    await pay_link()  # L2: $36, L1 superseded (its deactivation not yet known)
    check(await manager.get(sid), ledger)
    for n, (kind, which, detail) in enumerate(steps):
        state = await manager.get(sid)
        if kind in ("pay", "repay"):
            record = state.find_payment(links[which])
            assert record is not None
            if record.link_closed:
                continue  # Stripe takes no payment on a deactivated link
            if kind == "pay" and record.settled:
                continue  # "pay" is the link's first session; "repay" another one
            due = record.snapshot.amount_cents
            amount = {"exact": due, "short": due - 100, "over": due + 250}[detail]
            ledger.sessions[links[which]] = ledger.sessions.get(links[which], 0) + 1
            await send(
                PaymentEvent(
                    event_id=f"evt_{run_id}_{n}",
                    type="checkout.session.completed",
                    payment_id=links[which],
                    payment_status="paid",
                    amount_total=amount,
                    created=n,
                    checkout_session=f"cs_{run_id}_{n}",
                    livemode=False,
                    currency="usd",
                )
            )
        elif kind == "expire":
            await send(
                PaymentEvent(
                    event_id=f"evt_{run_id}_{n}",
                    type="checkout.session.expired",
                    payment_id=links[which],
                    payment_status="unpaid",
                    amount_total=None,
                    created=n,
                    checkout_session=f"cs_{run_id}_x{n}",
                    livemode=False,
                    currency="usd",
                )
            )
        elif kind == "redeliver" and ledger.sent:
            assert await send(ledger.sent[which % len(ledger.sent)]) is EventOutcome.DUPLICATE
        elif kind == "order":
            await order(detail)
        elif kind == "close" and detail == "closed":
            for stale in state.stale_links:
                assert stale.payment_id is not None
                await manager.record_link_closed(sid, stale.payment_id)
        check(await manager.get(sid), ledger)


@pytest.mark.parametrize("backend", ["memory", "sqlite", "postgres"], indirect=True)
def test_money_in_equals_money_recorded_after_every_step(backend: Backend) -> None:
    @settings(
        max_examples=EXAMPLES[backend.kind],
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        deadline=None,
    )
    @given(steps=st.lists(STEPS, max_size=14))
    def interleavings(steps: list[Step]) -> None:
        async def one() -> None:
            store = backend.open()
            try:
                with anyio.fail_after(60):
                    await run(TabManager(store, catalog=load_menu()), steps)
            finally:
                if backend.kind != "memory":
                    await store.aclose()

        anyio.run(one)

    interleavings()
