"""``maya demo``: one evening at the bar, end to end and offline, checked at every step.

The offline model drives the real agent and tools, the sandbox runs as a subprocess and
its link is paid by a real form POST; the demo exits 0 only if every step did its part.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import anyio

from maya.agent.loop import Agent, TurnResult
from maya.agent.models.offline import OfflineModel
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.money import format_cents, percent_of
from maya.otel import agent_tracer_from_env, configure_tracing_from_env
from maya.payments import open_payment_side
from maya.sandbox.cards import CARD_SUCCESS
from maya.sandbox.remote import apay_url
from maya.state.manager import TabManager
from maya.state.models import PaymentStatus, TabState
from maya.state.open import open_store
from maya.state.view import tab_line
from maya.tools import Toolset

__all__ = ["DEMO_SESSION", "DemoStep", "demo_steps", "run_demo"]

DEMO_SESSION = "demo"
"""The demo's session id."""

Check = Callable[[TurnResult, TabState, TabState], list[str]]
"""``check(result, before, after)`` -> what went wrong (empty when all is well)."""


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One thing the customer says, and what must follow.

    Attributes:
        say: the customer's message.
        check: what the turn must have done.
        pay_first: a card to pay the current link with, at its checkout page, first.
    """

    say: str
    check: Check
    pay_first: str | None = None


def _expect(condition: bool, problem: str) -> list[str]:
    return [] if condition else [problem]


def _called(result: TurnResult, *names: str) -> list[str]:
    made = [call.name for call in result.tool_calls]
    return _expect(made == list(names), f"expected tool calls {list(names)}, got {made}")


def _greeting(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    return _called(result) + _expect(after == before, "a greeting must not change the tab")


def _first_order(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    return (
        _called(result, "order_drink", "order_drink")
        + _expect(after.tab_cents == 3100, "two Martinis and a Tap Beer make a $31.00 tab")
        + _expect("$31.00" in result.reply, "the reply should give the tab, $31.00")
    )


def _round(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    return _called(result, "order_drink") + _expect(
        after.tab_cents == before.tab_cents + 26000, "twenty Martinis add $260.00 to the tab"
    )


def _refused(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    call = result.tool_calls[0] if result.tool_calls else None
    balance = format_cents(before.balance_cents)
    return (
        _called(result, "order_drink")
        + _expect(
            call is not None and call.response.get("error") == "INSUFFICIENT_FUNDS",
            "the round beyond the balance must be refused for insufficient funds",
        )
        + _expect(after == before, "a refused order must change nothing")
        + _expect(
            "$260.00" in result.reply and balance in result.reply,
            f"the refusal should name the price ($260.00) and the balance ({balance})",
        )
    )


def _bill(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    due = format_cents(after.total_due_cents)
    return _called(result, "get_bill") + _expect(due in result.reply, f"the bill should say {due}")


def _tip(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    tip = percent_of(before.tab_cents, 15)
    return (
        _called(result, "set_tip")
        + _expect(after.tip_percent == 15 and after.tip_cents == tip, "a 15% tip should be set")
        + _expect(format_cents(tip) in result.reply, f"the reply should give the tip, {tip}")
    )


def _link(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    current = after.current_payment
    url = current.url if current is not None else None
    return (
        _called(result, "create_stripe_payment")
        + _expect(
            current is not None and current.status is PaymentStatus.PENDING,
            "a pending payment should be recorded",
        )
        + _expect(
            url is not None and url.startswith("http://127.0.0.1:") and "/b/test_" in url,
            f"the link should be the sandbox's checkout page, not {url!r}",
        )
        + _expect(
            current is not None and not current.is_simulated, "the link must not be simulated"
        )
        + _expect(url is not None and url in result.reply, "the reply must give the link exactly")
        + _expect(
            current is not None and current.snapshot.amount_cents == before.total_due_cents,
            "the link must charge exactly what is due",
        )
    )


def _settled(result: TurnResult, before: TabState, after: TabState) -> list[str]:
    call = result.tool_calls[0] if result.tool_calls else None
    status = call.result.get("payment_status") if call is not None else None
    return (
        _called(result, "check_payment_status")
        + _expect(status == "succeeded", f"the payment status should be succeeded, not {status}")
        + _expect(after.tab_cents == 0 and after.tip_percent is None, "the tab should be settled")
        + _expect(after.payment_status is PaymentStatus.COMPLETED, "the payment should complete")
        + _expect(after.balance_cents == before.balance_cents, "paying must not touch the balance")
    )


def demo_steps() -> list[DemoStep]:
    """The demo's script, in order."""
    round_of = "A round of twenty martinis for the whole bar!"
    return [
        DemoStep("Good evening!", _greeting),
        DemoStep("Two martinis, dirty, and a beer please", _first_order),
        DemoStep(round_of, _round),
        DemoStep(round_of, _round),
        DemoStep(round_of, _round),
        DemoStep(round_of, _refused),
        DemoStep("What do I owe?", _bill),
        DemoStep("Add a 15% tip", _tip),
        DemoStep("Check please", _link),
        DemoStep("Did it go through?", _settled, pay_first=CARD_SUCCESS),
    ]


async def _pay(manager: TabManager, card: str, out: Callable[[str], None]) -> list[str]:
    state = await manager.get(DEMO_SESSION)
    current = state.current_payment
    if current is None or current.url is None:
        return ["there is no payment link to pay"]
    out(f"   [checkout] paying {current.url} with card {card[:4]} ... {card[-4:]}")
    with anyio.fail_after(15):
        paid = await apay_url(current.url, card)
    out(f"   [checkout] {paid.outcome}: {paid.message}")
    return _expect(paid.paid, f"the checkout should accept the card, not {paid.outcome}")


async def _play(
    agent: Agent, manager: TabManager, steps: Sequence[DemoStep], out: Callable[[str], None]
) -> list[str]:
    for number, step in enumerate(steps, start=1):
        problems: list[str] = []
        if step.pay_first is not None:
            problems += await _pay(manager, step.pay_first, out)
        before = await manager.get(DEMO_SESSION)
        result = await agent.respond(DEMO_SESSION, step.say)
        after = await manager.get(DEMO_SESSION)
        out(f"\n[{number}] you>  {step.say}")
        out("     maya> " + result.reply.replace("\n", "\n           "))
        out("     tab:  " + tab_line(after).replace("\n", "\n           "))
        problems += step.check(result, before, after)
        if problems:
            return [f"step {number} ({step.say!r}): {problem}" for problem in problems]
    return []


async def run_demo(
    *, sqlite: bool = False, quiet: bool = False, out: Callable[[str], None] = print
) -> int:
    """Run the demo; returns 0 when every step did what it should, 1 otherwise."""
    say: Callable[[str], None] = (lambda _line: None) if quiet else out
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="maya-demo-") as folder:
        workdir = Path(folder)
        store = open_store(str(workdir / "tabs.sqlite3") if sqlite else "memory://")
        manager = TabManager(store, catalog=load_menu())
        tracer = agent_tracer_from_env()
        shutdown_tracing = configure_tracing_from_env("maya")
        say("Maya demo: the offline model, a temporary tab, the sandbox as a subprocess.")
        try:
            async with open_payment_side("sandbox", workdir=workdir) as payments:
                toolset = Toolset(manager=manager, payments=payments, messages=bar_messages())
                agent = Agent(model=OfflineModel(), toolset=toolset, manager=manager, tracer=tracer)
                try:
                    problems = await _play(agent, manager, demo_steps(), say)
                finally:
                    agent.close()
        finally:
            await store.aclose()
            shutdown_tracing()
        trace = tracer.path_for(DEMO_SESSION)
    seconds = time.perf_counter() - started
    if trace is not None:
        say(f"\ntrace: {trace}")
    if problems:
        for problem in problems:
            out(f"demo FAILED: {problem}")
        return 1
    out(f"demo OK: every step did what it should ({seconds:.1f} s)")
    return 0
