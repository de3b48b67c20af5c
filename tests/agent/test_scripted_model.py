"""The scripted model replays steps in order and says loudly when the script does not fit."""

from __future__ import annotations

import pytest
from google.genai import errors as genai_errors
from google.genai import types

from maya.agent.models import response_content, text_of, text_response
from maya.testing import ScriptedModel, ScriptExhaustedError, ScriptIncompleteError

HELLO = [types.Content(role="user", parts=[types.Part(text="hello")])]


async def _ask(model: ScriptedModel) -> types.GenerateContentResponse:
    return await model.generate(system_instruction="sys", contents=HELLO, tools=[])


@pytest.mark.anyio
async def test_steps_are_returned_in_order_and_requests_recorded() -> None:
    model = ScriptedModel([text_response("one"), text_response("two")])
    first, second = await _ask(model), await _ask(model)
    assert [text_of(response_content(r)) for r in (first, second)] == ["one", "two"]
    assert model.requests[0].system_instruction == "sys" and model.used == 2
    model.assert_complete()


@pytest.mark.anyio
async def test_running_out_raises_a_clear_error() -> None:
    model = ScriptedModel([text_response("only")])
    await _ask(model)
    with pytest.raises(ScriptExhaustedError, match="call 2 was asked for but only 1"):
        await _ask(model)


@pytest.mark.anyio
async def test_unused_steps_fail_assert_complete() -> None:
    model = ScriptedModel([text_response("a"), text_response("b")])
    await _ask(model)
    with pytest.raises(ScriptIncompleteError, match="1 of 2"):
        model.assert_complete()


@pytest.mark.anyio
async def test_an_exception_step_is_raised() -> None:
    error = genai_errors.ClientError(429, {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}})
    model = ScriptedModel([error])
    with pytest.raises(genai_errors.ClientError) as raised:
        await _ask(model)
    assert raised.value.code == 429


@pytest.mark.anyio
async def test_a_builder_step_sees_the_conversation() -> None:
    model = ScriptedModel([lambda contents: text_response(f"{len(contents)} message(s)")])
    assert text_of(response_content(await _ask(model))) == "1 message(s)"
