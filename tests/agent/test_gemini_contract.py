"""The real google-genai client against a local server playing Gemini: requests, retries,
errors, and a key that never leaks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio
import pytest

from fake_gemini import FakeGemini, error_body, fake_gemini, function_call_body, text_body
from maya.agent import Agent, GeminiModel, GeminiSettings, JsonlTracer, RealModelForbiddenError
from maya.state import TabManager
from maya.testing import FakeClock
from maya.tools import Toolset

from .conftest import SESSION

FAKE_KEY = "fake-gemini-key-for-tests-0123456789"


@pytest.fixture
def server() -> Iterator[FakeGemini]:
    with fake_gemini() as fake:
        yield fake


@pytest.fixture
async def gemini(server: FakeGemini) -> AsyncIterator[GeminiModel]:
    settings = GeminiSettings(
        api_key=FAKE_KEY,
        base_url=server.base_url,
        timeout_s=5.0,
    )
    model = GeminiModel(settings)
    yield model
    await model.aclose()


def _trace_text(trace_dir: Path) -> str:
    return "".join(p.read_text() for p in trace_dir.glob("*.jsonl"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def agent(
    gemini: GeminiModel, toolset: Toolset, manager: TabManager, trace_dir: Path, clock: FakeClock
) -> Agent:
    # The loop retries on a fake clock: every back-off is recorded, none is waited.
    return Agent(
        model=gemini,
        toolset=toolset,
        manager=manager,
        tracer=JsonlTracer(trace_dir),
        clock=clock,
        sleep=clock.sleep,
    )


@pytest.mark.anyio
async def test_function_calls_round_trip_through_the_real_sdk(
    agent: Agent,
    server: FakeGemini,
    manager: TabManager,
    trace_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server.replies += [
        (200, function_call_body(("call-7", "order_drink", {"name": "Martini", "quantity": 2}))),
        (200, text_body("Two Martinis: $26.00.")),
    ]
    with anyio.fail_after(15):
        result = await agent.respond(SESSION, "two martinis")
    assert (
        result.reply == "Two Martinis: $26.00." and (await manager.get(SESSION)).tab_cents == 2600
    )
    first, second = server.requests
    assert first.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert first.headers["x-goog-api-key"] == FAKE_KEY
    assert "Maya" in first.body["systemInstruction"]["parts"][0]["text"]
    names = {d["name"] for d in first.body["tools"][0]["functionDeclarations"]}
    assert {"order_drink", "create_stripe_payment", "check_payment_status"} <= names
    answer = second.body["contents"][-1]
    assert answer["role"] == "user"
    response = answer["parts"][0]["functionResponse"]
    assert response["id"] == "call-7" and response["name"] == "order_drink"
    assert response["response"]["status"] == "ok"
    assert FAKE_KEY not in _trace_text(trace_dir) and FAKE_KEY not in caplog.text


@pytest.mark.anyio
async def test_a_429_is_retried_then_succeeds(agent: Agent, server: FakeGemini) -> None:
    server.replies += [
        (429, error_body(429, "RESOURCE_EXHAUSTED", "quota exceeded")),
        (200, text_body("Good evening!")),
    ]
    with anyio.fail_after(15):
        result = await agent.respond(SESSION, "hello")
    assert result.reply == "Good evening!" and result.outcome == "ok"
    assert len(server.requests) == 2


@pytest.mark.anyio
async def test_retries_are_bounded_and_end_in_mayas_words(
    agent: Agent, server: FakeGemini, trace_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.replies += [(503, error_body(503, "UNAVAILABLE", "overloaded"))] * 4
    with anyio.fail_after(15):
        result = await agent.respond(SESSION, "hello")
    assert len(server.requests) == 3
    assert result.outcome == "model_error" and result.error is not None
    assert result.error.category == "server" and result.error.retryable
    assert "moment" in result.reply
    assert FAKE_KEY not in _trace_text(trace_dir) and FAKE_KEY not in caplog.text


@pytest.mark.anyio
async def test_a_400_is_not_retried_and_becomes_a_reply(
    agent: Agent, server: FakeGemini, trace_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server.replies.append((400, error_body(400, "INVALID_ARGUMENT", f"bad key={FAKE_KEY}")))
    with anyio.fail_after(15):
        result = await agent.respond(SESSION, "hello")
    assert len(server.requests) == 1
    assert result.error is not None and result.error.category == "bad_request"
    assert result.error.status_code == 400 and not result.error.retryable
    assert FAKE_KEY not in result.reply
    assert FAKE_KEY not in _trace_text(trace_dir) and FAKE_KEY not in caplog.text


@pytest.mark.anyio
async def test_the_conversation_goes_on_after_a_failed_call(
    agent: Agent, server: FakeGemini
) -> None:
    server.replies += [
        (400, error_body(400, "INVALID_ARGUMENT", "no")),
        (200, text_body("Sorry about that. What can I get you?")),
    ]
    with anyio.fail_after(15):
        await agent.respond(SESSION, "hello")
        result = await agent.respond(SESSION, "hello?")
    assert result.outcome == "ok"
    roles = [c["role"] for c in server.requests[1].body["contents"]]
    assert roles == ["user", "model", "user"]


def test_a_real_endpoint_is_refused_when_real_models_are_forbidden() -> None:
    with pytest.raises(RealModelForbiddenError):
        GeminiModel(GeminiSettings(api_key=FAKE_KEY))


def test_the_key_is_not_in_the_models_repr(server: FakeGemini) -> None:
    settings = GeminiSettings(api_key=FAKE_KEY, base_url=server.base_url)
    assert FAKE_KEY not in repr(settings) and FAKE_KEY not in repr(GeminiModel(settings))


@pytest.mark.anyio
async def test_a_bad_key_is_told_by_its_reason_through_the_real_sdk(
    agent: Agent, server: FakeGemini, caplog: pytest.LogCaptureFixture
) -> None:
    body = error_body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }
    ]
    server.replies.append((400, body))
    with anyio.fail_after(15):
        result = await agent.respond(SESSION, "hello")
    assert len(server.requests) == 1  # not retried
    assert result.error is not None and result.error.category == "api_key_invalid"
    assert "key to my model isn't valid" in result.reply
    assert "reason=API_KEY_INVALID" in caplog.text


@pytest.mark.anyio
async def test_a_429s_retry_delay_is_waited_through_the_real_sdk(
    agent: Agent, server: FakeGemini, clock: FakeClock
) -> None:
    body = error_body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.")
    body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "23s"}
    ]
    server.replies += [(429, body), (200, text_body("Good evening!"))]
    with anyio.fail_after(15):
        result = await agent.respond(SESSION, "hello")
    assert result.reply == "Good evening!" and clock.sleeps == [23.0]
    assert len(server.requests) == 2
