"""Fuzzing the dispatcher: thousands of random calls per tool, every answer well-formed.

Each example builds a fresh tab, replays a few valid calls to reach an interesting state
(items, a tip, a payment link with a scripted status, a failing provider), then sends one
random call. The answer must be one of the two response shapes, never ``INTERNAL_ERROR``,
JSON-serialisable, and an error must leave the tab byte-for-byte as it was. The one
documented exception: when the provider fails while making a link, the tab keeps the
payment snapshot (no link, no money moved) so that a retry reuses its idempotency key.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scripted_gateway import ScriptedGateway

from maya.codes import ErrorCode
from maya.state import MemoryTabStore, TabManager, TabState, load_menu
from maya.tools import DEFAULT_TOOLS, Toolset

CALLS_PER_TOOL = int(os.environ.get("MAYA_FUZZ_CALLS", "2000"))
CALLS_PER_EXAMPLE = 10
SESSION = "fuzz-session"
MENU = load_menu()
TOOL_NAMES = [spec.name for spec in DEFAULT_TOOLS]
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


setup_steps = st.lists(
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
        st.tuples(
            st.just("script_status"),
            st.sampled_from(["pending", "succeeded", "failed", "timeout"]),
        ),
    ),
    max_size=5,
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


async def _one_example(
    toolset: Toolset,
    gateway: ScriptedGateway,
    fresh: str,
    calls: list[tuple[str, Any, str]],
    setup: list[tuple[str, Any]],
    failure: Any,
) -> None:
    """Bring session ``fresh`` to a state with ``setup``, then make the random ``calls``."""
    gateway.fail("create", None)
    gateway.fail("status", None)
    gateway.fail("deactivate", None)
    for name, step in setup:
        if name == "script_status":
            for key, link in gateway.links.items():
                if key.startswith(f"{fresh}_"):
                    gateway.set_status(link.payment_id, step, amount_paid_cents=link.amount_cents)
        else:
            await toolset.call(name, step, fresh)
    if failure is not None:
        gateway.fail(*failure)
    for tool, args, session in calls:
        await _check_call(toolset, fresh, tool, args, fresh if session == SESSION else session)


async def _check_call(toolset: Toolset, fresh: str, tool: str, args: Any, session: str) -> None:
    manager = toolset.context.manager
    known = await manager.store.session_ids()
    before = await manager.get(fresh)

    result = await toolset.call(tool, args, session)

    json.dumps(result)
    assert result["status"] in ("ok", "error"), result
    if result["status"] == "ok":
        assert isinstance(result["result"], dict)
        return
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


@pytest.mark.parametrize("tool", [*TOOL_NAMES, "<random name>"])
def test_every_random_call_gets_a_structured_answer_and_errors_change_nothing(tool: str) -> None:
    ran = calls_made = 0
    gateway = ScriptedGateway()
    toolset = Toolset(manager=TabManager(MemoryTabStore()), payments=gateway)
    names = (
        st.just(tool)
        if tool != "<random name>"
        else st.text(max_size=40)
        | st.sampled_from(["Order_Drink", "order_drink ", "get_bill()", "__init__", "run"])
    )

    @settings(
        max_examples=-(-CALLS_PER_TOOL // CALLS_PER_EXAMPLE),
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        calls=st.lists(
            st.tuples(names, _args_for(tool), sessions),
            min_size=CALLS_PER_EXAMPLE,
            max_size=CALLS_PER_EXAMPLE,
        ),
        setup=setup_steps,
        failure=provider_failures,
    )
    def one(calls: list[tuple[str, Any, str]], setup: list[tuple[str, Any]], failure: Any) -> None:
        nonlocal ran, calls_made
        ran += 1
        runner.run(_one_example(toolset, gateway, f"fuzz-{ran}", calls, setup, failure))
        calls_made += len(calls)

    # One event loop and one toolset for all examples; each example gets a fresh session.
    with asyncio.Runner() as runner:
        one()
    assert calls_made >= CALLS_PER_TOOL
