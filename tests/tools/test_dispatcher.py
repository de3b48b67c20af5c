"""The dispatcher: every call answers in one of two shapes, is logged once, and is observed."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from google.genai import types
from scripted_gateway import ScriptedGateway

from maya.bar import DEFAULT_TOOLS, GetMenuArgs
from maya.codes import ErrorCode
from maya.state import TabManager
from maya.tools import ToolCallRecord, Toolset
from maya.tools.catalog import ToolSpec
from maya.tools.context import ToolContext

pytestmark = pytest.mark.anyio


async def test_an_unknown_tool_is_a_terminal_error_listing_the_tools(toolset: Toolset) -> None:
    # A name the toolset does not own may be the application's own tool: not ours to retry.
    result = await toolset.call("make_coffee", {}, "s1")
    assert result["status"] == "error" and result["error"] == "UNKNOWN_TOOL"
    assert result["retryable"] is False
    assert "order_drink" in result["available"]
    assert "make_coffee" in result["message"]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"name": "Martini", "quantity": "two"}, "quantity"),
        ({"name": "Martini", "quantity": -1}, "quantity"),
        ({"name": "Martini", "quantity": 10**9}, "quantity"),
        ({"name": "Martini", "quantity": True}, "quantity"),
        ({"name": "Martini", "quantity": 1.5}, "quantity"),
        ({"name": "x" * 10_000}, "name"),
        ({"name": ""}, "name"),
        ({}, "name"),
        ({"name": 7}, "name"),
        ({"name": "Martini", "modifiers": "dry"}, "modifiers"),
        ({"name": "Martini", "modifiers": ["dry"] * 9}, "modifiers"),
        ({"name": "Martini", "modifiers": ["x" * 41]}, "modifiers.0"),
        ({"name": "Martini", "price": 0}, "price"),
    ],
)
async def test_bad_arguments_name_the_field_and_change_nothing(
    toolset: Toolset, manager: TabManager, args: dict[str, Any], field: str
) -> None:
    before = (await manager.get("s1")).model_dump_json()
    result = await toolset.call("order_drink", args, "s1")
    assert result["error"] == "INVALID_ARGUMENTS" and result["retryable"] is True
    assert field in [f["field"] for f in result["fields"]]
    assert all(f["problem"] for f in result["fields"])
    assert len(result["message"]) < 500  # a 10,000-character argument is never echoed
    assert (await manager.get("s1")).model_dump_json() == before


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"name": "Martini", "quantity": -1}, "quantity: must be at least 1"),
        ({"name": "Martini", "quantity": 10**9}, "quantity: must be at most 20"),
        ({"name": ""}, "name: must not be empty"),
        ({"name": "x" * 10_000}, "name: must be at most 100 characters"),
    ],
)
async def test_a_bound_is_said_in_plain_words(
    toolset: Toolset, args: dict[str, Any], problem: str
) -> None:
    """Not pydantic's "Input should be greater than or equal to 1"."""
    result = await toolset.call("order_drink", args, "s1")
    assert problem in result["message"] and "should" not in result["message"]


async def test_an_extra_argument_is_refused_saying_which_ones_exist(toolset: Toolset) -> None:
    result = await toolset.call("order_drink", {"name": "Martini", "price_cents": 1}, "s1")
    (problem,) = result["fields"]
    assert problem["field"] == "price_cents"
    assert "name, quantity, modifiers" in problem["problem"]


async def test_arguments_that_are_not_an_object_are_refused(toolset: Toolset) -> None:
    result = await toolset.call("order_drink", ["Martini"], "s1")  # type: ignore[arg-type]
    assert result["error"] == "INVALID_ARGUMENTS"


async def test_tip_13_is_refused_by_the_tab_with_the_allowed_percentages(toolset: Toolset) -> None:
    result = await toolset.call("set_tip", {"percent": 13}, "s1")
    assert result["error"] == "INVALID_TIP_PERCENTAGE"
    assert result["allowed"] == [10, 15, 20]
    assert result["retryable"] is True


@pytest.mark.parametrize("session_id", ["", " ", "x" * 129, "-leading-dash", "a b"])
async def test_a_missing_or_invalid_session_is_a_terminal_error(
    toolset: Toolset, session_id: str
) -> None:
    for name in ("get_menu", "order_drink"):
        result = await toolset.call(
            name, {"name": "Water"} if name == "order_drink" else {}, session_id
        )
        assert result["error"] == "INVALID_SESSION_ID" and result["retryable"] is False


async def test_state_refusals_are_terminal_or_retryable_by_channel(toolset: Toolset) -> None:
    unknown = await toolset.call("order_drink", {"name": "Martni"}, "s1")
    assert unknown["error"] == "UNKNOWN_ITEM" and unknown["retryable"] is True
    assert unknown["suggestions"] == ["Martini"]
    nothing = await toolset.call("create_stripe_payment", {}, "s1")
    assert nothing["error"] == "NOTHING_TO_PAY" and nothing["retryable"] is False


async def _explode(ctx: ToolContext, session_id: str, args: GetMenuArgs) -> dict[str, Any]:
    raise RuntimeError("db password is hunter2; key AIzaSyDUMMYDUMMYDUMMYDUMMY")


async def test_an_unexpected_exception_is_an_internal_error_without_internals(
    manager: TabManager, caplog: pytest.LogCaptureFixture
) -> None:
    tools = [*DEFAULT_TOOLS, ToolSpec("explode", GetMenuArgs, _explode)]
    toolset = Toolset(manager=manager, payments=None, tools=tools)
    caplog.set_level(logging.INFO, logger="maya.tools")
    result = await toolset.call("explode", {}, "s1")
    assert result["status"] == "error" and result["error"] == "INTERNAL_ERROR"
    assert result["retryable"] is False
    assert "hunter2" not in str(result) and "RuntimeError" not in str(result)
    crash = [r for r in caplog.records if r.exc_info]
    assert crash, "the crash is logged with its traceback"


async def test_a_coded_payments_refusal_passes_only_its_code(
    toolset: Toolset, gateway: ScriptedGateway
) -> None:
    await toolset.call("order_drink", {"name": "Water"}, "s1")
    gateway.fail("create", ErrorCode.LIVE_MODE_REFUSED)
    result = await toolset.call("create_stripe_payment", {}, "s1")
    assert result["error"] == "LIVE_MODE_REFUSED" and "refused" not in result["message"]


async def test_each_call_is_one_log_line_without_bodies_by_default(
    toolset: Toolset, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="maya.tools")
    await toolset.call("order_drink", {"name": "Martini", "modifiers": ["gin"]}, "s1")
    await toolset.call("order_drink", {"name": "Soup"}, "s1")
    lines = [r for r in caplog.records if r.name == "maya.tools"]
    assert [r.getMessage().split(" ms=")[0] for r in lines] == [
        "tool=order_drink session=s1 outcome=ok",
        "tool=order_drink session=s1 outcome=UNKNOWN_ITEM",
    ]
    assert all("Martini" not in r.getMessage() for r in lines)
    assert lines[0].__dict__["outcome"] == "ok" and lines[0].__dict__["ms"] >= 0


async def test_bodies_are_logged_redacted_when_asked(
    manager: TabManager, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MAYA_LOG_TOOL_BODIES", "1")
    toolset = Toolset(manager=manager, payments=None)
    caplog.set_level(logging.INFO, logger="maya.tools")
    await toolset.call("order_drink", {"name": "sk_test_51SECRETSECRET"}, "s1")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "maya.tools"]
    assert "args=" in line and "result=" in line
    assert "sk_test_51SECRETSECRET" not in line and "sk_test_***" in line


async def test_the_observer_sees_each_call_with_its_timing(manager: TabManager) -> None:
    events: list[ToolCallRecord] = []
    ticks = iter([0.0, 0.25, 1.0, 1.5])
    toolset = Toolset(
        manager=manager, payments=None, observer=events.append, timer=lambda: next(ticks)
    )
    await toolset.call("get_balance", {}, "s1")
    await toolset.call("nope", {"a": 1}, "s1")
    assert [(e.name, e.response["status"], e.ms) for e in events] == [
        ("get_balance", "ok", 250.0),
        ("nope", "error", 500.0),
    ]
    assert events[1].args == {"a": 1} and events[1].session_id == "s1"
    # ``response`` is what the model got; ``result`` the inner result (or the error).
    assert events[0].ok and events[0].result == events[0].response["result"]
    assert not events[1].ok and events[1].result == events[1].response


async def test_a_failing_observer_does_not_break_the_call(manager: TabManager) -> None:
    def observer(event: ToolCallRecord) -> None:
        raise ValueError("tracer is broken")

    toolset = Toolset(manager=manager, payments=None, observer=observer)
    assert (await toolset.call("get_balance", {}, "s1"))["status"] == "ok"


async def test_dispatch_answers_each_call_in_order_with_its_id(toolset: Toolset) -> None:
    calls = [
        types.FunctionCall(id="a", name="order_drink", args={"name": "Negroni"}),
        types.FunctionCall(id="b", name="set_tip", args={"percent": 20}),
        types.FunctionCall(id="c", name="get_bill", args=None),
        types.FunctionCall(id="d", name=None, args={}),
    ]
    parts = await toolset.dispatch(calls, "s1")
    responses = [p.function_response for p in parts]
    assert all(r is not None for r in responses)
    assert [(r.id, r.name) for r in responses if r] == [
        ("a", "order_drink"),
        ("b", "set_tip"),
        ("c", "get_bill"),
        ("d", ""),
    ]
    bill = responses[2].response if responses[2] else {}
    assert bill is not None and bill["result"]["total_due"] == "$13.20"
    last = responses[3].response if responses[3] else {}
    assert last is not None and last["error"] == "UNKNOWN_TOOL"


async def test_the_observer_sees_the_model_call_id_through_dispatch(manager: TabManager) -> None:
    records: list[ToolCallRecord] = []
    toolset = Toolset(manager=manager, payments=None, observer=records.append)
    await toolset.dispatch([types.FunctionCall(id="x1", name="get_balance", args={})], "s1")
    await toolset.call("get_balance", {}, "s1")
    assert [(r.id, r.name, r.ok) for r in records] == [
        ("x1", "get_balance", True),
        (None, "get_balance", True),
    ]
