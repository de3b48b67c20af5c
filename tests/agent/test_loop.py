"""The chat loop: calls answered with their ids, bounded rounds, failures in Maya's voice."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from google.genai import errors as genai_errors
from google.genai import types

from maya.agent import Agent, ConversationHistory
from maya.agent.loop import EMPTY_REPLY, ROUND_LIMIT_REPLY
from maya.agent.models import calls_response, response_from_parts, text_response
from maya.agent.trace import NullTracer, read_trace
from maya.state import ConversationBounds, TabManager
from maya.testing import ScriptedModel
from maya.tools import Toolset

from .conftest import SESSION


def _events(trace_dir: Path) -> list[dict[str, object]]:
    files = sorted(trace_dir.glob("*.jsonl"))
    assert len(files) == 1
    return read_trace(files[0])


def _trace_text(trace_dir: Path) -> str:
    return "".join(p.read_text() for p in trace_dir.glob("*.jsonl"))


@pytest.mark.anyio
async def test_function_calls_are_answered_with_their_ids(
    make_agent: Callable[..., Agent],
) -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Martini", "quantity": 2})], id_prefix="x"),
            text_response("Two Martinis."),
        ]
    )
    result = await make_agent(model).respond(SESSION, "two martinis")
    answer = model.requests[1].contents[-1]
    assert answer.role == "user" and answer.parts is not None
    response = answer.parts[0].function_response
    assert response is not None and (response.id, response.name) == ("x_1", "order_drink")
    assert result.reply == "Two Martinis." and result.model_calls == 2
    assert result.tool_calls[0].result["tab_cents"] == 2600
    model.assert_complete()


@pytest.mark.anyio
async def test_the_request_carries_instruction_tools_and_history(
    make_agent: Callable[..., Agent],
) -> None:
    model = ScriptedModel([text_response("Hi!"), text_response("Again!")])
    agent = make_agent(model, system_instruction="Be Maya.")
    await agent.respond(SESSION, "hello")
    await agent.respond(SESSION, "hello again")
    second = model.requests[1]
    assert second.system_instruction == "Be Maya."
    assert second.tools[0].function_declarations is not None
    assert [c.role for c in second.contents] == ["user", "model", "user"]


@pytest.mark.anyio
async def test_tool_rounds_are_bounded_with_a_graceful_reply(
    make_agent: Callable[..., Agent],
) -> None:
    looping = [calls_response([("get_balance", {})], start=n) for n in range(1, 4)]
    model = ScriptedModel(looping)
    agent = make_agent(model, max_tool_rounds=2)
    result = await agent.respond(SESSION, "balance")
    assert result.outcome == "round_limit" and result.reply == ROUND_LIMIT_REPLY
    assert len(result.tool_calls) == 2 and result.model_calls == 3
    # The unanswered third call is not kept: every call in history has its response.
    kept = await agent.history.contents(SESSION)
    calls = sum(1 for c in kept for p in c.parts or [] if p.function_call)
    answers = sum(1 for c in kept for p in c.parts or [] if p.function_response)
    assert calls == answers == 2 and kept[-1].role == "model"
    model.assert_complete()


@pytest.mark.anyio
async def test_a_429_becomes_mayas_words_and_the_conversation_continues(
    make_agent: Callable[..., Agent], caplog: pytest.LogCaptureFixture
) -> None:
    # Asked to wait longer than the turn's budget: no retry, Maya says she is busy.
    busy = genai_errors.ClientError(
        429,
        {
            "error": {
                "code": 429,
                "message": "quota",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "45s"}
                ],
            }
        },
    )
    model = ScriptedModel([busy, text_response("Here now.")])
    agent = make_agent(model)
    failed = await agent.respond(SESSION, "hello")
    assert failed.outcome == "model_error" and failed.error is not None
    assert failed.error.category == "rate_limit" and failed.error.status_code == 429
    assert "busy" in failed.reply.lower()
    assert "rate_limit" in caplog.text
    recovered = await agent.respond(SESSION, "hello?")
    assert recovered.reply == "Here now."
    assert [c.role for c in model.requests[1].contents] == ["user", "model", "user"]


@pytest.mark.anyio
async def test_a_server_error_after_a_tool_call_keeps_the_order_and_apologises(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    down = genai_errors.ServerError(503, {"error": {"code": 503, "status": "UNAVAILABLE"}})
    model = ScriptedModel([calls_response([("order_drink", {"name": "Water"})]), down, down, down])
    result = await make_agent(model).respond(SESSION, "a water")
    assert result.outcome == "model_error" and result.error is not None
    assert result.error.category == "server" and result.model_calls == 4
    assert (await manager.get(SESSION)).tab_cents == 100
    # The reply says what was done, never "try again" (that would order a second Water).
    assert result.reply.startswith("Your Water is on the tab ($1.00).")
    assert "again" not in result.reply.lower()
    model.assert_complete()


@pytest.mark.anyio
async def test_an_empty_answer_gets_a_polite_reply(make_agent: Callable[..., Agent]) -> None:
    model = ScriptedModel([types.GenerateContentResponse(candidates=[])])
    result = await make_agent(model).respond(SESSION, "hm")
    assert result.outcome == "empty" and result.reply == EMPTY_REPLY


@pytest.mark.anyio
async def test_text_beside_calls_is_part_of_the_reply(make_agent: Callable[..., Agent]) -> None:
    model = ScriptedModel(
        [
            calls_response([("get_balance", {})], text="Let me look."),
            text_response("You have $1,000.00."),
        ]
    )
    result = await make_agent(model).respond(SESSION, "balance")
    assert result.reply == "Let me look.\n\nYou have $1,000.00."


@pytest.mark.anyio
async def test_history_is_bounded_by_whole_turns(toolset: Toolset) -> None:
    model = ScriptedModel([text_response(str(n)) for n in range(5)])
    agent = Agent(
        model=model,
        toolset=toolset,
        history=ConversationHistory(bounds=ConversationBounds(max_turns=2)),
    )
    for n in range(5):
        await agent.respond(SESSION, f"message {n}")
    last = model.requests[-1].contents
    assert [p.text for c in last for p in c.parts or []] == [
        "message 2",
        "2",
        "message 3",
        "3",
        "message 4",
    ]


@pytest.mark.anyio
async def test_the_trace_has_every_event_kind_in_order(
    make_agent: Callable[..., Agent], trace_dir: Path
) -> None:
    model = ScriptedModel(
        [calls_response([("order_drink", {"name": "IPA"})]), text_response("One IPA.")]
    )
    agent = make_agent(model)
    await agent.respond(SESSION, "an IPA")
    kinds = [e["type"] for e in _events(trace_dir)]
    assert kinds == [
        "prompt",
        "turn_start",
        "model_call",
        "state_change",
        "tool_call",
        "model_call",
        "turn_end",
    ]
    events = _events(trace_dir)
    change = next(e for e in events if e["type"] == "state_change")
    assert change["patch"]["tab_cents"] == [0, 600]  # type: ignore[index]
    tool = next(e for e in events if e["type"] == "tool_call")
    assert tool["args"] == {"name": "IPA"} and isinstance(tool["ms"], float)


@pytest.mark.anyio
async def test_the_prompt_is_traced_once_per_hash(
    make_agent: Callable[..., Agent], trace_dir: Path
) -> None:
    agent = make_agent(ScriptedModel([text_response("a"), text_response("b")]))
    await agent.respond(SESSION, "one")
    await agent.respond(SESSION, "two")
    prompts = [e for e in _events(trace_dir) if e["type"] == "prompt"]
    assert len(prompts) == 1 and prompts[0]["hash"] == agent.prompt.sha256


@pytest.mark.anyio
async def test_secrets_never_reach_the_trace(
    make_agent: Callable[..., Agent], trace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "plain-looking-secret-value")
    leaked = "sk_test_51Hxyzabcdefghijkl and AIzaSyA1234567890abcdefghijklmnop"
    model = ScriptedModel(
        [response_from_parts([types.Part(text=f"{leaked} plain-looking-secret-value")])]
    )
    await make_agent(model).respond(SESSION, "Bearer abcdefghijklmnop123")
    text = _trace_text(trace_dir)
    for secret in ("sk_test_51Hxyz", "AIzaSyA123", "abcdefghijklmnop123", "plain-looking-secret"):
        assert secret not in text
    assert json.loads(text.splitlines()[-1])["type"] == "turn_end"


@pytest.mark.anyio
async def test_a_tracer_that_keeps_nothing_is_handed_nothing(
    toolset: Toolset, manager: TabManager
) -> None:
    class Counting(NullTracer):
        """Keeps nothing, as NullTracer; counts what it is handed."""

        def __init__(self) -> None:
            self.handed: list[str] = []

        def emit(self, event_type: str, session_id: str, turn: int, **fields: object) -> None:
            self.handed.append(event_type)

    tracer = Counting()
    listeners = len(manager._listeners)
    model = ScriptedModel(
        [calls_response([("order_drink", {"name": "IPA"})]), text_response("One IPA.")]
    )
    agent = Agent(model=model, toolset=toolset, manager=manager, tracer=tracer)
    await agent.respond(SESSION, "an IPA")
    assert len(manager._listeners) == listeners  # no state patches computed for it
    assert "model_call" not in tracer.handed and "tool_call" not in tracer.handed
    assert "state_change" not in tracer.handed
    assert (await manager.get(SESSION)).tab_cents == 600  # the turn itself is whole
