"""``maya state demo``: one session through the tab's whole life, printed step by step.

It uses the state layer alone (no model, no Stripe): orders, a refused order, a tip, a
payment snapshot and its settlement. Every step is checked; any surprise exits non-zero.
"""

from __future__ import annotations

from collections.abc import Callable

from maya.bar import load_menu
from maya.money import format_amount
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.models import PaymentStatus
from maya.state.store import TabStore
from maya.state.view import tab_line

__all__ = ["run_state_demo"]


async def run_state_demo(store: TabStore, *, out: Callable[[str], None] = print) -> int:
    """Walk session ``demo`` through the tab's life; 0 when every step did what it should."""
    manager = TabManager(store, catalog=load_menu())
    session = "state-demo"
    await manager.reset(session)
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            failures.append(what)
            out(f"  !! {what}")

    out("Two dirty Martinis:")
    state = await manager.order(session, "Martini", 2, ["dirty"])
    out("  " + tab_line(state).replace("\n", "\n  "))
    check(state.tab_cents == 2600, "the tab should be $26.00")

    out("A Tap Beer:")
    state = await manager.order(session, "tap beer")
    out("  " + tab_line(state).replace("\n", "\n  "))
    check(state.tab_cents == 3100, "the tab should be $31.00")

    out("Twenty Brandies at a time (the balance runs out):")
    refused: StateError | None = None
    for _ in range(10):
        before = state
        try:
            state = await manager.order(session, "Brandy", 20)
        except StateError as exc:
            refused = exc
            check(await manager.get(session) == before, "a refused order must change nothing")
            break
    out(f"  refused: {refused.code.value if refused else 'nothing'} ({refused})")
    out("  " + tab_line(state).replace("\n", "\n  "))
    check(refused is not None, "an order beyond the balance must be refused")

    out("A 15% tip:")
    state = await manager.set_tip(session, 15)
    out("  " + tab_line(state).replace("\n", "\n  "))

    out("Paying: snapshot what is due")
    started = await manager.begin_payment(session)
    snap = started.payment.snapshot
    charge = format_amount(snap.amount_cents, started.state.currency)
    out(f"  charge {charge} with key {started.payment.idempotency_key}")
    state = await manager.record_payment_link(
        session,
        idempotency_key=started.payment.idempotency_key,
        payment_id="plink_state_demo",
        url="https://example.invalid/state-demo",
        is_simulated=True,
    )
    check(snap.amount_cents == state.total_due_cents, "the snapshot charges what is due")

    out("One more Water after asking to pay (stays on the tab):")
    state = await manager.order(session, "Water")
    out("  " + tab_line(state).replace("\n", "\n  "))

    out("The payment succeeds: settle it, then settle it again")
    first = await manager.settle_payment(session, "plink_state_demo")
    second = await manager.settle_payment(session, "plink_state_demo")
    out("  " + tab_line(second.state).replace("\n", "\n  "))
    check(first.applied and not second.applied, "a payment settles exactly once")
    check(second.state.tab_cents == 100, "only the Water should remain on the tab")
    check(second.state.tip_percent is None, "the tip resets after settlement")
    check(
        second.state.current_payment is not None
        and second.state.current_payment.status is PaymentStatus.COMPLETED,
        "the payment should be completed",
    )
    if failures:
        out(f"state demo FAILED: {len(failures)} step(s) went wrong")
        return 1
    out("state demo OK: every step did what it should")
    return 0
