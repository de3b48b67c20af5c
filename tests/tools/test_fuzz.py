"""Fuzzing the dispatcher: thousands of random calls per tool, every answer well-formed.

Each example takes a fresh session, replays a few valid calls to reach an interesting
state (items, a tip, a payment link, paid or declined), then sends ten random calls.
The payment tools run against the real ``StripeMCPClient`` on the sandbox in memory.
Every tool (and random names) also runs with a scripted gateway that injects each
refusal a payment provider can send, to check how the dispatcher maps them.

The answer must be one of the two response shapes, never ``INTERNAL_ERROR``,
JSON-serialisable, and an error must leave the tab byte-for-byte as it was. The one
documented exception: when the provider fails while making a link, the tab keeps the
payment snapshot (no link, no money moved) so that a retry reuses its idempotency key.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scripted_gateway import ScriptedGateway

from maya.bar import DEFAULT_TOOLS, load_menu
from maya.codes import ErrorCode
from maya.payments import PaymentStatusResult, StripeMCPClient
from maya.sandbox import (
    CARD_GENERIC_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    MEMORY,
    SandboxStore,
    build_mcp_server,
    pay_link,
)
from maya.state import MemoryTabStore, TabManager, TabState
from maya.testing import FakeClock
from maya.tools import Toolset

# Fuzzing and long generated sequences: seconds per test.
pytestmark = pytest.mark.slow

CALLS_PER_TOOL = int(os.environ.get("MAYA_FUZZ_CALLS", "2000"))
CALLS_PER_EXAMPLE = 10
SESSION = "fuzz-session"
MENU = load_menu()
PAYMENT_TOOLS = ["create_stripe_payment", "check_payment_status"]
OTHER_TOOLS = [s.name for s in DEFAULT_TOOLS if s.name not in PAYMENT_TOOLS]
CODES = {code.value for code in ErrorCode}

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.builds(lambda n, c: c * n, st.integers(100, 10_000), st.sampled_from("xé{ 0"))
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)
drink_names = st.sampled_from([i.name for i in MENU.items]) | st.sampled_from(
    ["martinis", " IPA ", "long  island", "Martni", "", "coffee"]
)
modifiers = st.lists(
    st.sampled_from([*MENU.modifiers, "frozen", "GIN", ""]) | st.text(max_size=50), max_size=10
)
VALID_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": drink_names,
    "quantity": st.integers(min_value=-5, max_value=25) | st.sampled_from([1.0, 2.5, "2", True]),
    "modifiers": modifiers,
    "percent": st.sampled_from([10, 15, 20, 13, 0, -10, 100, 15.0, "15"]),
    "payment_id": st.sampled_from(["plink_1", "plink_2", "nope"]) | st.text(max_size=120),
}


def _args_for(tool: str) -> st.SearchStrategy[Any]:
    spec = next((s for s in DEFAULT_TOOLS if s.name == tool), None)
    fields = list(spec.arguments.model_fields) if spec else []
    plausible = st.fixed_dictionaries(
        {}, optional={f: VALID_VALUES[f] | json_values for f in fields}
    )
    with_extras = st.builds(
        lambda base, extra: {**extra, **base},
        plausible,
        st.dictionaries(st.text(max_size=12), json_values, max_size=3),
    )
    return plausible | with_extras | json_values | st.none()


PAYMENTS = ["paid", "generic_decline", "insufficient_funds", "pending", "timeout"]
CARDS = {
    "paid": CARD_SUCCESS,
    "generic_decline": CARD_GENERIC_DECLINE,
    "insufficient_funds": CARD_INSUFFICIENT_FUNDS,
}
_random_steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("order_drink"),
            st.fixed_dictionaries(
                {"name": st.sampled_from([i.name for i in MENU.items])},
                optional={"quantity": st.integers(1, 20)},
            ),
        ),
        st.tuples(
            st.just("set_tip"), st.fixed_dictionaries({"percent": st.sampled_from([10, 15, 20])})
        ),
        st.tuples(st.just("create_stripe_payment"), st.just({})),
        st.tuples(st.just("check_payment_status"), st.just({})),
        st.tuples(st.just("pay"), st.sampled_from(PAYMENTS)),
    ),
    max_size=6,
)
# Half the examples start from a tab with a payment link, so that paying it (the last
# step) and checking it are common rather than lucky.
setup_steps = st.builds(
    lambda linked, steps, payment: [
        *([("order_drink", {"name": "Negroni"}), ("create_stripe_payment", {})] if linked else []),
        *steps,
        ("pay", payment),
    ],
    st.booleans(),
    _random_steps,
    st.sampled_from(PAYMENTS),
)
provider_failures = st.none() | st.tuples(
    st.sampled_from(["create", "status", "deactivate"]),
    st.sampled_from(
        [
            ErrorCode.STRIPE_UNAVAILABLE,
            ErrorCode.PAYMENT_LINK_FAILED,
            ErrorCode.PAYMENT_STATUS_TIMEOUT,
            ErrorCode.PAYMENT_STATUS_UNSUPPORTED,
            ErrorCode.LIVE_MODE_REFUSED,
        ]
    ),
)
sessions = st.just(SESSION) | st.sampled_from(["", " ", "x" * 200, "bad session", "ok-2"])


def _money(state: TabState) -> str:
    return state.model_dump_json(exclude={"payments", "version", "payment_status"})


Payer = Callable[[str, str, str], None]
"""``payer(payment_id, url, outcome)`` makes the provider see that payment."""


async def _one_example(
    toolset: Toolset,
    payer: Payer,
    fresh: str,
    calls: list[tuple[str, Any, str]],
    setup: list[tuple[str, Any]],
    seen: set[str] | None = None,
) -> None:
    """Bring session ``fresh`` to a state with ``setup``, then make the random ``calls``.

    ``seen`` collects the ``payment_status`` of every ok status check.
    """
    for name, step in setup:
        if name == "pay":
            current = (await toolset.context.manager.get(fresh)).current_payment
            if current is not None and current.url is not None and current.payment_id:
                payer(current.payment_id, current.url, step)
        else:
            await toolset.call(name, step, fresh)
    for tool, args, session in calls:
        result = await _check_call(
            toolset, fresh, tool, args, fresh if session == SESSION else session
        )
        if seen is not None and result["status"] == "ok":
            seen.add(str(result["result"].get("payment_status")))


async def _check_call(
    toolset: Toolset, fresh: str, tool: str, args: Any, session: str
) -> dict[str, Any]:
    manager = toolset.context.manager
    known = await manager.store.session_ids()
    before = await manager.get(fresh)

    result = await toolset.call(tool, args, session)

    json.dumps(result)
    assert result["status"] in ("ok", "error"), result
    if result["status"] == "ok":
        assert isinstance(result["result"], dict)
        return result
    assert result["error"] in CODES and result["error"] != "INTERNAL_ERROR", result
    assert isinstance(result["message"], str) and result["message"]
    assert "{" not in result["message"] or "{" in json.dumps([tool, args])
    assert isinstance(result["retryable"], bool)
    after = await manager.get(fresh)
    provider_failed_making_a_link = tool == "create_stripe_payment" and result["error"] in (
        "STRIPE_UNAVAILABLE",
        "PAYMENT_LINK_FAILED",
        "PAYMENT_STATUS_TIMEOUT",
        "PAYMENT_STATUS_UNSUPPORTED",
        "LIVE_MODE_REFUSED",
    )
    if provider_failed_making_a_link:
        assert _money(after) == _money(before)
        assert after.current_payment is not None and after.current_payment.url is None
    else:
        assert after.model_dump_json() == before.model_dump_json()
        assert await manager.store.session_ids() == known
    return result


def _calls(tool: str) -> st.SearchStrategy[list[tuple[str, Any, str]]]:
    names = (
        st.just(tool)
        if tool != "<random name>"
        else st.text(max_size=40)
        | st.sampled_from(["Order_Drink", "order_drink ", "get_bill()", "__init__", "run"])
    )
    return st.lists(
        st.tuples(names, _args_for(tool), sessions),
        min_size=CALLS_PER_EXAMPLE,
        max_size=CALLS_PER_EXAMPLE,
    )


FUZZ_SETTINGS = settings(
    max_examples=-(-CALLS_PER_TOOL // CALLS_PER_EXAMPLE),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("tool", [*OTHER_TOOLS, *PAYMENT_TOOLS, "<random name>"])
def test_random_calls_with_provider_refusals_get_structured_answers(tool: str) -> None:
    """Scripted gateway: checks the dispatcher's mapping of every provider refusal."""
    made = 0
    gateway = ScriptedGateway()
    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=gateway)

    def payer(payment_id: str, url: str, outcome: str) -> None:
        if outcome == "paid":
            link = next(v for v in gateway.links.values() if v.payment_id == payment_id)
            gateway.set_status(payment_id, "succeeded", amount_paid_cents=link.amount_cents)
        elif outcome in CARDS:
            gateway.set_status(payment_id, "failed", failure_reason=outcome)
        else:
            gateway.set_status(payment_id, outcome)

    @FUZZ_SETTINGS
    @given(calls=_calls(tool), setup=setup_steps, failure=provider_failures)
    def one(calls: list[tuple[str, Any, str]], setup: list[tuple[str, Any]], failure: Any) -> None:
        nonlocal made
        for operation in ("create", "status", "deactivate"):
            gateway.fail(operation, None)
        if failure is not None:
            gateway.fail(*failure)
        runner.run(_one_example(toolset, payer, f"fuzz-{made}", calls, setup))
        made += len(calls)

    # One event loop and one toolset for all examples; each example gets a fresh session.
    with asyncio.Runner() as runner:
        one()
    assert made >= CALLS_PER_TOOL


class OnePollClient:
    """The real client with status checks bounded to one poll, as a chat would bound them."""

    def __init__(self, client: StripeMCPClient) -> None:
        self.client = client
        self.create_payment_link = client.create_payment_link
        self.deactivate_payment_link = client.deactivate_payment_link

    async def check_payment_status(self, payment_id: str) -> PaymentStatusResult:
        return await self.client.check_payment_status(payment_id, poll_interval=1, deadline=1)


@pytest.mark.anyio
@pytest.mark.parametrize("tool", PAYMENT_TOOLS)
async def test_random_payment_calls_against_the_sandbox_get_structured_answers(
    tool: str,
) -> None:
    """The real StripeMCPClient on the real sandbox, in memory."""
    made = 0
    seen: set[str] = set()
    with SandboxStore(MEMORY) as sandbox:
        server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
        clock = FakeClock()
        async with StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as client:
            toolset = Toolset(
                manager=TabManager(MemoryTabStore(), catalog=load_menu()),
                payments=OnePollClient(client),
            )

            def payer(payment_id: str, url: str, outcome: str) -> None:
                if outcome in CARDS:
                    pay_link(sandbox, url, CARDS[outcome])

            @FUZZ_SETTINGS
            @given(calls=_calls(tool), setup=setup_steps)
            def one(calls: list[tuple[str, Any, str]], setup: list[tuple[str, Any]]) -> None:
                nonlocal made
                anyio.from_thread.run(
                    _one_example, toolset, payer, f"fuzz-{made}", calls, setup, seen
                )
                made += len(calls)

            # Hypothesis drives from a worker thread; the calls run on this event loop,
            # where the client's MCP session lives.
            with anyio.fail_after(110):
                await anyio.to_thread.run_sync(one)
    assert made >= CALLS_PER_TOOL
    if tool == "check_payment_status":
        assert {"succeeded", "failed", "pending"} <= seen, seen
