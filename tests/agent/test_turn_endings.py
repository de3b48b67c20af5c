"""How a turn ends when the model does not simply answer: empty, blocked, cut off, failing,
slow. Nothing already done is ever offered to be done again, and the time is bounded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import anyio
import pytest
from google.genai import errors as genai_errors
from google.genai import types

from maya.agent import Agent
from maya.agent.fallback import fallback_reply
from maya.agent.loop import EMPTY_REPLY, RetryPolicy
from maya.agent.models import calls_response, text_response
from maya.state import TabManager
from maya.testing import FakeClock, ScriptedModel

from .conftest import SESSION

ORDER_MARTINI = calls_response([("order_drink", {"name": "Martini"})])


def _response(
    parts: Sequence[dict[str, Any]] | None, finish: str = "STOP", **extra: Any
) -> types.GenerateContentResponse:
    candidate: dict[str, Any] = {"finishReason": finish, "index": 0}
    if parts is not None:
        candidate["content"] = {"role": "model", "parts": list(parts)}
    return types.GenerateContentResponse.model_validate({"candidates": [candidate], **extra})


def _rpc_error(code: int, status: str, *, delay: str | None = None) -> genai_errors.APIError:
    error: dict[str, Any] = {"code": code, "message": "replayed", "status": status}
    if delay is not None:
        error["details"] = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}
        ]
    cls = genai_errors.ServerError if code >= 500 else genai_errors.ClientError
    return cls(code, {"error": error})


EMPTY_ANSWERS = {
    "no candidates": types.GenerateContentResponse(candidates=[]),
    "no content": _response(None),
    "an empty text part": _response([{"text": ""}]),
    "a part with nothing in it": _response([{}, {"text": "", "thought": False}]),
    "thoughts only": _response([{"text": "hmm", "thought": True}]),
}


@pytest.mark.anyio
@pytest.mark.parametrize("empty", list(EMPTY_ANSWERS), ids=list(EMPTY_ANSWERS))
async def test_an_empty_answer_after_an_order_says_what_was_done(
    make_agent: Callable[..., Agent], manager: TabManager, empty: str
) -> None:
    model = ScriptedModel([ORDER_MARTINI, EMPTY_ANSWERS[empty]])
    result = await make_agent(model).respond(SESSION, "a martini")
    assert result.outcome == "empty"
    assert result.reply.startswith("Your Martini (vodka) is on the tab ($13.00).")
    assert "$987.00" in result.reply and "anything else?" in result.reply
    assert "again" not in result.reply.lower() and "catch" not in result.reply
    assert (await manager.get(SESSION)).tab_cents == 1300


@pytest.mark.anyio
@pytest.mark.parametrize("empty", list(EMPTY_ANSWERS), ids=list(EMPTY_ANSWERS))
async def test_an_empty_answer_with_nothing_done_asks_politely(
    make_agent: Callable[..., Agent], empty: str
) -> None:
    model = ScriptedModel([EMPTY_ANSWERS[empty]])
    result = await make_agent(model).respond(SESSION, "hm")
    assert result.outcome == "empty" and result.reply == EMPTY_REPLY


@pytest.mark.anyio
async def test_an_empty_answer_leaves_a_history_gemini_accepts(
    make_agent: Callable[..., Agent],
) -> None:
    model = ScriptedModel([ORDER_MARTINI, _response([{"text": ""}]), text_response("Sure.")])
    agent = make_agent(model)
    await agent.respond(SESSION, "a martini")
    await agent.respond(SESSION, "and then?")
    sent = model.requests[-1].contents
    assert [c.role for c in sent] == ["user", "model", "user", "model", "user"]
    assert all(p.text != "" for c in sent for p in c.parts or [])


@pytest.mark.anyio
async def test_a_blocked_answer_after_an_order_says_what_was_done(
    make_agent: Callable[..., Agent],
) -> None:
    model = ScriptedModel([ORDER_MARTINI, _response(None, finish="SAFETY")])
    result = await make_agent(model).respond(SESSION, "a martini")
    assert result.outcome == "blocked"
    assert result.reply.startswith("Your Martini (vodka) is on the tab ($13.00).")


@pytest.mark.anyio
async def test_a_blocked_prompt_with_nothing_done_is_declined(
    make_agent: Callable[..., Agent],
) -> None:
    blocked = types.GenerateContentResponse.model_validate(
        {"promptFeedback": {"blockReason": "SAFETY"}}
    )
    result = await make_agent(ScriptedModel([blocked])).respond(SESSION, "something rude")
    assert result.outcome == "blocked" and "rather not" in result.reply


@pytest.mark.anyio
async def test_a_truncated_answer_says_it_was_cut_off(make_agent: Callable[..., Agent]) -> None:
    cut = _response([{"text": "Our cocktails are the Daiquiri, the Mar"}], finish="MAX_TOKENS")
    result = await make_agent(ScriptedModel([cut])).respond(SESSION, "menu?")
    assert result.outcome == "truncated"
    assert result.reply.startswith("Our cocktails are the Daiquiri, the Mar")
    assert "cut short" in result.reply


@pytest.mark.anyio
async def test_a_429s_retry_delay_is_honoured_when_it_fits_the_budget(
    make_agent: Callable[..., Agent],
) -> None:
    clock = FakeClock()
    busy = _rpc_error(429, "RESOURCE_EXHAUSTED", delay="23s")
    model = ScriptedModel([busy, text_response("Here now.")])
    agent = make_agent(model, clock=clock, sleep=clock.sleep)
    result = await agent.respond(SESSION, "hello")
    assert result.outcome == "ok" and result.reply == "Here now."
    assert clock.sleeps == [23.0]


@pytest.mark.anyio
async def test_a_retry_delay_beyond_the_budget_is_told_not_waited(
    make_agent: Callable[..., Agent],
) -> None:
    clock = FakeClock()
    busy = _rpc_error(429, "RESOURCE_EXHAUSTED", delay="95s")
    agent = make_agent(ScriptedModel([busy]), clock=clock, sleep=clock.sleep)
    result = await agent.respond(SESSION, "hello")
    assert result.outcome == "model_error" and clock.sleeps == []
    assert "busy" in result.reply and "about 2 minutes" in result.reply


@pytest.mark.anyio
async def test_back_off_without_a_delay_doubles_and_stops(make_agent: Callable[..., Agent]) -> None:
    clock = FakeClock()
    down = _rpc_error(503, "UNAVAILABLE")
    model = ScriptedModel([down, down, down])
    agent = make_agent(model, clock=clock, sleep=clock.sleep)
    result = await agent.respond(SESSION, "hello")
    assert result.outcome == "model_error" and result.model_calls == 3
    assert clock.sleeps == [1.0, 2.0]
    model.assert_complete()


@pytest.mark.anyio
async def test_the_budget_covers_retries_and_slow_calls(make_agent: Callable[..., Agent]) -> None:
    clock = FakeClock()
    down = _rpc_error(503, "UNAVAILABLE")

    def slow_failure(contents: Sequence[types.Content]) -> types.GenerateContentResponse:
        clock.advance(14.0)  # the server took 14 s to say it is overloaded
        raise down

    model = ScriptedModel([slow_failure, slow_failure, slow_failure])
    agent = make_agent(model, clock=clock, sleep=clock.sleep, turn_budget_s=30.0)
    result = await agent.respond(SESSION, "hello")
    # 14 s + 1 s wait + 14 s = 29 s: no time left for a third try.
    assert result.model_calls == 2 and clock.sleeps == [1.0]
    assert model.remaining == 1


@pytest.mark.anyio
async def test_a_model_that_never_answers_ends_the_turn_as_too_slow(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    class Hanging:
        name = "hanging"

        async def generate(self, **_: Any) -> types.GenerateContentResponse:
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

    agent = make_agent(Hanging(), clock=anyio.current_time, turn_budget_s=0.05)
    with anyio.fail_after(5):
        result = await agent.respond(SESSION, "hello")
    assert result.outcome == "model_error" and result.error is not None
    assert result.error.category == "timeout"
    assert "too slow" in result.reply and "network" not in result.reply


@pytest.mark.anyio
async def test_the_retry_policy_is_data() -> None:
    policy = RetryPolicy(max_retries=3, initial_wait=0.5, max_wait=1.5)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]


@pytest.mark.anyio
async def test_a_failure_after_a_cancel_says_what_was_cancelled(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    await manager.order(SESSION, "IPA", 2)
    model = ScriptedModel(
        [calls_response([("cancel_last_order", {})]), _rpc_error(400, "INVALID_ARGUMENT")]
    )
    result = await make_agent(model).respond(SESSION, "cancel that")
    assert result.reply.startswith(
        "I took 2 x IPA off your tab and put $12.00 back on your balance."
    )
    assert "Your tab is $0.00 and your balance is $1,000.00." in result.reply


def test_a_failure_after_a_payment_link_gives_the_link() -> None:
    link = {
        "status": "ok",
        "result": {
            "amount": "$13.00",
            "url": "https://buy.stripe.com/test_x",
            "is_simulated": True,
        },
    }
    said = fallback_reply("empty", [("create_stripe_payment", link)])
    assert "https://buy.stripe.com/test_x" in said and "$13.00" in said
    assert "no real money will move" in said


def test_a_failure_after_a_simulated_payment_never_says_it_went_through() -> None:
    status = {
        "status": "ok",
        "result": {
            "payment_status": "succeeded",
            "is_simulated": True,
            "tab": "$0.00",
            "message": "Your payment of $13.00 went through. Thank you!",
        },
    }
    said = fallback_reply("model_error", [("check_payment_status", status)])
    assert "went through" not in said and "no real money moved" in said


@pytest.mark.anyio
async def test_the_round_limit_after_orders_says_what_was_ordered(
    make_agent: Callable[..., Agent], manager: TabManager
) -> None:
    looping = [calls_response([("order_drink", {"name": "Water"})], start=n) for n in range(1, 4)]
    result = await make_agent(ScriptedModel(looping), max_tool_rounds=2).respond(SESSION, "water")
    assert result.outcome == "round_limit"
    assert result.reply.count("Your Water is on the tab ($1.00).") == 2
    assert "tangled up after that - anything else?" in result.reply
    assert "once more" not in result.reply
    assert (await manager.get(SESSION)).tab_cents == 200
