"""One model answer asking for too many tool calls: none runs, the model is told why."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maya.agent import Agent
from maya.agent.loop import DEFAULT_MAX_TOOL_CALLS
from maya.agent.models import calls_response, offline_parse, parse_message, text_response
from maya.agent.models.offline import OfflineModel
from maya.agent.models.offline_reply import compose_reply
from maya.bar import load_menu
from maya.state import TabManager
from maya.testing import ScriptedModel

from .conftest import SESSION


@pytest.mark.anyio
async def test_two_hundred_orders_in_one_answer_run_none(
    make_agent: Callable[..., Agent], manager: TabManager, caplog: pytest.LogCaptureFixture
) -> None:
    flood = calls_response([("order_drink", {"name": "Water"})] * 200)
    model = ScriptedModel([flood, text_response("Sorry, one at a time.")])
    before = await manager.get(SESSION)
    result = await make_agent(model).respond(SESSION, "water for everyone")
    after = await manager.get(SESSION)
    assert (after.balance_cents, after.tab_cents, after.items) == (
        before.balance_cents,
        before.tab_cents,
        before.items,
    )
    # Every call answered (Gemini needs each call's response), each with the reason.
    answer = model.requests[1].contents[-1]
    assert answer.parts is not None and len(answer.parts) == 200
    responses = [part.function_response for part in answer.parts]
    assert all(r is not None and r.response is not None for r in responses)
    first = responses[0].response if responses[0] is not None else None
    assert first is not None
    assert first["error"] == "TOO_MANY_TOOL_CALLS" and first["retryable"] is True
    assert "200" in first["message"] and str(DEFAULT_MAX_TOOL_CALLS) in first["message"]
    assert result.reply == "Sorry, one at a time." and len(result.tool_calls) == 200
    assert "tool calls refused: 200 in one model answer" in caplog.text
    model.assert_complete()


@pytest.mark.anyio
async def test_up_to_the_cap_every_call_runs(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    model = ScriptedModel(
        [calls_response([("order_drink", {"name": "Water"})] * 3), text_response("Three.")]
    )
    await make_agent(model, max_tool_calls=3).respond(SESSION, "three waters")
    assert (await manager.get(SESSION)).tab_cents == 300
    refused = ScriptedModel(
        [calls_response([("order_drink", {"name": "Water"})] * 4), text_response("No.")]
    )
    await make_agent(refused, max_tool_calls=3).respond(SESSION, "four waters")
    assert (await manager.get(SESSION)).tab_cents == 300


@pytest.mark.anyio
async def test_the_offline_model_says_the_refusal_once_in_a_customers_words(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    # Eleven drinks are eleven calls, one past the cap: each is refused, the reply is not.
    result = await make_agent(OfflineModel()).respond(SESSION, "beer, " * 11)
    assert len(result.tool_calls) == DEFAULT_MAX_TOOL_CALLS + 1
    assert all(c.response["error"] == "TOO_MANY_TOOL_CALLS" for c in result.tool_calls)
    assert result.reply.count("more than I can take in one go") == 1
    assert f"at most {DEFAULT_MAX_TOOL_CALLS} orders or requests" in result.reply
    assert "tool call" not in result.reply and len(result.reply.splitlines()) == 1
    assert (await manager.get(SESSION)).version == 0


def test_the_same_refusal_of_several_calls_is_said_once() -> None:
    poor = {"status": "error", "error": "INSUFFICIENT_FUNDS", "message": "Too dear."}
    unknown = {"status": "error", "error": "UNKNOWN_ITEM", "message": "No mojitos."}
    said = compose_reply([("order_drink", poor), ("order_drink", unknown)] * 3)
    assert said == "Too dear.\nNo mojitos."


@pytest.mark.anyio
async def test_a_very_long_message_is_not_read(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    # 100 KB of "beer beer ...": once 20,000 calls and as many refusals in the reply.
    result = await make_agent(OfflineModel()).respond(SESSION, "beer " * 20_000)
    assert result.tool_calls == () and result.model_calls == 1
    assert "a lot to take in" in result.reply and len(result.reply) < 200
    assert (await manager.get(SESSION)).version == 0


def test_a_message_up_to_the_limit_is_read_and_one_past_it_is_not() -> None:
    menu, most = load_menu(), offline_parse.MAX_MESSAGE_CHARS
    longest = ("beer " * most)[:most]
    assert len(parse_message(longest, menu).orders) == most // 5
    past = parse_message(longest + "!", menu)
    assert past.too_long and past.orders == ()
