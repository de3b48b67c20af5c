"""One model answer asking for too many tool calls: none runs, the model is told why."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maya.agent import Agent
from maya.agent.loop import DEFAULT_MAX_TOOL_CALLS
from maya.agent.models import calls_response, text_response
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
