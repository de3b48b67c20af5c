"""The offline model answers like Gemini: calls for a fresh message, words from tool results."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from google.genai import types
from hypothesis import given
from hypothesis import strategies as st

from maya.agent import Agent, OfflineModel
from maya.agent.models import function_calls_of, response_content, text_of
from maya.bar import load_menu
from maya.state import MemoryTabStore, TabManager
from maya.tools import Toolset

from .conftest import SESSION

MONEY = re.compile(r"\$[0-9][0-9,]*\.[0-9]{2}")


async def _calls_for(message: str) -> list[tuple[str, dict[str, Any]]]:
    response = await OfflineModel().generate(
        system_instruction="",
        contents=[types.Content(role="user", parts=[types.Part(text=message)])],
        tools=[],
    )
    return [
        (c.name or "", dict(c.args or {})) for c in function_calls_of(response_content(response))
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("message", "calls"),
    [
        (
            "two martinis, dirty",
            [("order_drink", {"name": "Martini", "quantity": 2, "modifiers": ["dirty"]})],
        ),
        (
            "a beer and a water",
            [
                ("order_drink", {"name": "Tap Beer", "quantity": 1, "modifiers": []}),
                ("order_drink", {"name": "Water", "quantity": 1, "modifiers": []}),
            ],
        ),
        ("what do I owe?", [("get_bill", {})]),
        ("bill", [("get_bill", {})]),
        ("balance?", [("get_balance", {})]),
        ("add 15%", [("set_tip", {"percent": 15})]),
        ("tip 20 percent", [("set_tip", {"percent": 20})]),
        ("remove the tip", [("remove_tip", {})]),
        ("I'd like to pay", [("create_stripe_payment", {})]),
        ("check please", [("create_stripe_payment", {})]),
        ("did it go through?", [("check_payment_status", {})]),
        ("menu", [("get_menu", {})]),
        ("hi there", []),
    ],
)
async def test_each_intent_becomes_the_right_function_calls(
    message: str, calls: list[tuple[str, dict[str, Any]]]
) -> None:
    assert await _calls_for(message) == calls


@pytest.mark.anyio
async def test_calls_carry_ids_unique_in_the_conversation() -> None:
    model = OfflineModel()
    first = response_content(
        await model.generate(
            system_instruction="",
            contents=[types.Content(role="user", parts=[types.Part(text="a beer and a water")])],
            tools=[],
        )
    )
    ids = [call.id for call in function_calls_of(first)]
    assert ids == ["offline_1", "offline_2"]


def _ordered(call_id: str) -> list[types.Content]:
    """A past turn: "a beer", the model's call with ``call_id``, its answer, the reply."""
    call = types.FunctionCall(id=call_id, name="order_drink", args={"name": "Tap Beer"})
    answer = types.FunctionResponse(id=call_id, name="order_drink", response={"ok": True})
    return [
        types.Content(role="user", parts=[types.Part(text="a beer")]),
        types.Content(role="model", parts=[types.Part(function_call=call)]),
        types.Content(role="user", parts=[types.Part(function_response=answer)]),
        types.Content(role="model", parts=[types.Part(text="Coming right up.")]),
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("earlier", "expected"),
    [
        ([], ["offline_1"]),
        (["offline_1", "offline_2"], ["offline_3"]),
        # The conversation's head was dropped: its ids go on from the latest, never reused.
        (["offline_7"], ["offline_8"]),
        # Begun with another model (Gemini's ids): one past the count of calls.
        (["f3a9", "c01d"], ["offline_3"]),
        (["offline_4", "f3a9"], ["offline_3"]),
    ],
)
async def test_call_ids_go_on_from_the_conversations_latest(
    earlier: list[str], expected: list[str]
) -> None:
    contents = [content for call_id in earlier for content in _ordered(call_id)]
    contents.append(types.Content(role="user", parts=[types.Part(text="a water")]))
    response = await OfflineModel().generate(system_instruction="", contents=contents, tools=[])
    assert [call.id for call in function_calls_of(response_content(response))] == expected


@pytest.mark.anyio
async def test_small_talk_is_answered_in_words(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(OfflineModel())
    result = await agent.respond(SESSION, "hello")
    assert result.tool_calls == () and "Maya" in result.reply and result.outcome == "ok"


@pytest.mark.anyio
async def test_an_order_reply_quotes_the_tool_amounts(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(OfflineModel())
    result = await agent.respond(SESSION, "two martinis, dirty")
    assert "$26.00" in result.reply and "$974.00" in result.reply


@pytest.mark.anyio
async def test_a_refused_order_uses_the_tools_words(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    agent = make_agent(OfflineModel())
    for _ in range(5):
        await agent.respond(SESSION, "twenty brandies")  # $180 each time, $100 left
    before = await manager.get(SESSION)
    result = await agent.respond(SESSION, "twenty brandies")
    assert result.tool_calls[0].response["error"] == "INSUFFICIENT_FUNDS"
    assert "$180.00" in result.reply and "$100.00" in result.reply
    assert await manager.get(SESSION) == before


@pytest.mark.anyio
async def test_an_unknown_drink_gets_the_menu_suggestion(make_agent: Callable[..., Agent]) -> None:
    result = await make_agent(OfflineModel()).respond(SESSION, "I'll have a martiny")
    assert result.tool_calls[0].response["error"] == "UNKNOWN_ITEM"
    assert "Martini" in result.reply


@pytest.mark.anyio
async def test_tip_toggles_and_the_reply_follows_the_tool(
    make_agent: Callable[..., Agent],
) -> None:
    agent = make_agent(OfflineModel())
    await agent.respond(SESSION, "two martinis")
    added = await agent.respond(SESSION, "add 15%")
    again = await agent.respond(SESSION, "tip 15 percent")
    assert "$3.90" in added.reply and "$29.90" in added.reply
    assert "removed" in again.reply.lower() and "$26.00" in again.reply


@pytest.mark.anyio
async def test_payment_without_a_gateway_says_so(make_agent: Callable[..., Agent]) -> None:
    agent = make_agent(OfflineModel())
    await agent.respond(SESSION, "a beer")
    result = await agent.respond(SESSION, "check please")
    assert result.tool_calls[0].response["error"] == "STRIPE_UNAVAILABLE"
    assert result.reply == result.tool_calls[0].response["message"]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


DRINKS = [item.name for item in load_menu().items]
MESSAGES = st.one_of(
    st.builds(
        lambda n, d: f"{n} {d}",
        st.integers(min_value=1, max_value=25),
        st.sampled_from(DRINKS),
    ),
    st.sampled_from(
        ["what do I owe?", "balance", "add 15%", "tip 20 percent", "remove the tip", "menu"]
    ),
)


@pytest.mark.anyio
@given(
    balance=st.integers(min_value=0, max_value=50_000),
    messages=st.lists(MESSAGES, min_size=1, max_size=6),
)
async def test_every_amount_in_a_reply_was_returned_by_a_tool(
    balance: int, messages: list[str]
) -> None:
    manager = TabManager(MemoryTabStore(), starting_balance_cents=balance, catalog=load_menu())
    agent = Agent(model=OfflineModel(), toolset=Toolset(manager=manager, payments=None))
    for message in messages:
        result = await agent.respond(SESSION, message)
        said = set(MONEY.findall(result.reply))
        returned = {
            amount
            for call in result.tool_calls
            for text in _strings(call.response)
            for amount in MONEY.findall(text)
        }
        assert said <= returned, (message, result.reply)


@pytest.mark.anyio
async def test_replies_are_composed_only_after_function_responses() -> None:
    model = OfflineModel()
    response = await model.generate(
        system_instruction="",
        contents=[
            types.Content(role="user", parts=[types.Part(text="balance")]),
            types.Content(
                role="model",
                parts=[types.Part(function_call=types.FunctionCall(id="a", name="get_balance"))],
            ),
            types.Content(
                role="user",
                parts=[
                    types.Part(
                        function_response=types.FunctionResponse(
                            id="a",
                            name="get_balance",
                            response={
                                "status": "ok",
                                "result": {"balance": "$12.34", "tab": "$0.00", "tab_cents": 0},
                            },
                        )
                    )
                ],
            ),
        ],
        tools=[],
    )
    assert text_of(response_content(response)) == "Your balance is $12.34. Your tab is empty."


class _CountingModel(OfflineModel):
    """The offline model, counting the messages it reads (then reading them as ever)."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def intent_of(self, message: str) -> Any:
        self.read.append(message)
        return super().intent_of(message)


@pytest.mark.anyio
async def test_a_turn_reads_its_message_once_and_a_later_turn_reads_it_again(
    make_agent: Callable[..., Agent],
) -> None:
    model = _CountingModel()
    agent = make_agent(model)
    first = await agent.respond(SESSION, "a beer")
    # Two steps (the call, then the reply from the tool's answer), one reading.
    assert [call.name for call in first.tool_calls] == ["order_drink"]
    assert first.model_calls == 2 and model.read == ["a beer"]
    # The same words in a new turn are a new message: read again, and answered anew.
    second = await agent.respond(SESSION, "a beer")
    assert second.model_calls == 2 and model.read == ["a beer", "a beer"]
    assert "$5.00" in first.reply and "$10.00" in second.reply
