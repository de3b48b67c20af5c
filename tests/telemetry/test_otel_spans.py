"""``GenAITelemetry``: one agent turn as spans by the GenAI semantic conventions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.genai import errors as genai_errors
from google.genai import types
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from maya.agent import Agent
from maya.agent.models.base import calls_response, text_response
from maya.otel import GenAITelemetry
from maya.testing import ScriptedModel
from surface_bar import Bar, open_bar

pytestmark = pytest.mark.anyio

SECRET = "sk_test_51MayaSecretKeyThatMustNeverLeak0000"


def _agent(bar: Bar, model: ScriptedModel, telemetry: GenAITelemetry) -> Agent:
    return Agent(
        model=model,
        toolset=bar.toolset,
        tracer=telemetry,
        manager=bar.manager,
        system_instruction="You are Maya.",
    )


def _maya_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.instrumentation_scope.name == "maya"]


def _one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    [span] = [s for s in spans if s.name == name]
    return span


def _all_attribute_text(spans: list[ReadableSpan]) -> str:
    values: list[Any] = []
    for span in spans:
        values.extend((span.attributes or {}).values())
        for event in span.events:
            values.extend((event.attributes or {}).values())
    return json.dumps(values, default=str)


async def test_one_turn_with_an_order_is_an_agent_span_with_chat_and_tool_children(
    exporter: InMemorySpanExporter,
) -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Martini", "quantity": 2})]),
            text_response("Two Martinis: $26.00."),
        ]
    )
    async with open_bar() as bar:
        agent = _agent(bar, model, GenAITelemetry(capture_content=False))
        result = await agent.respond("table-1", "Two martinis please")
        agent.close()
    spans = _maya_spans(exporter)
    assert sorted(s.name for s in spans) == [
        "chat scripted",
        "chat scripted",
        "execute_tool order_drink",
        "invoke_agent maya",
    ]
    root = _one(spans, "invoke_agent maya")
    assert root.parent is None and root.kind is SpanKind.INTERNAL
    assert dict(root.attributes or {}) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "maya",
        "gen_ai.conversation.id": "table-1",
        "gen_ai.provider.name": "maya",
        "gen_ai.request.model": "scripted",
        "maya.turn": 1,
        "maya.turn.outcome": "ok",
        "maya.turn.model_calls": 2,
        "maya.turn.tool_calls": 1,
    }
    assert [e.name for e in root.events] == ["maya.tab.changed"]
    assert root.events[0].attributes == {"maya.tab.operation": "order", "maya.tab.version": 1}
    for child in spans:
        if child is not root:
            assert child.parent is not None and child.parent.span_id == root.context.span_id
            assert child.context.trace_id == root.context.trace_id
            assert root.start_time <= child.start_time <= child.end_time <= root.end_time
    tool = _one(spans, "execute_tool order_drink")
    assert dict(tool.attributes or {}) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "order_drink",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
    }
    assert tool.status.status_code is StatusCode.UNSET
    chat = next(s for s in spans if s.name == "chat scripted")
    assert chat.kind is SpanKind.CLIENT
    assert chat.attributes is not None and chat.attributes["gen_ai.operation.name"] == "chat"
    # Content is off by default: no messages, arguments or results anywhere.
    text = _all_attribute_text(spans)
    assert "Martini" not in text and "$26.00" not in text
    assert result.outcome == "ok"


async def test_content_is_recorded_only_when_enabled_and_secrets_never(
    exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", SECRET)
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": f"Martini {SECRET}"})]),
            text_response(f"Your key {SECRET} is safe with me. Bearer abcdefghijklmnop123"),
        ]
    )
    async with open_bar() as bar:
        telemetry = GenAITelemetry()
        agent = _agent(bar, model, telemetry)
        await agent.respond("table-2", f"My Stripe key is {SECRET}, and a Martini")
        agent.close()
    spans = _maya_spans(exporter)
    assert telemetry.capture_content
    text = _all_attribute_text(spans)
    assert SECRET not in text and "sk_test_51" not in text
    assert "abcdefghijklmnop123" not in text
    root = _one(spans, "invoke_agent maya")
    assert root.attributes is not None
    assert "My Stripe key is" in str(root.attributes["gen_ai.input.messages"])
    assert "is safe with me" in str(root.attributes["gen_ai.output.messages"])
    assert "You are Maya." in str(root.attributes["gen_ai.system_instructions"])
    tool = _one(spans, "execute_tool order_drink")
    assert tool.attributes is not None
    assert "Martini" in str(tool.attributes["gen_ai.tool.call.arguments"])
    assert "UNKNOWN_ITEM" in str(tool.attributes["gen_ai.tool.call.result"])
    assert tool.attributes["error.type"] == "UNKNOWN_ITEM"
    assert tool.status.status_code is StatusCode.ERROR


async def test_a_model_failure_marks_the_chat_and_agent_spans(
    exporter: InMemorySpanExporter,
) -> None:
    # A refusal the loop does not retry: the one scripted answer is the whole turn.
    failure = genai_errors.ClientError(
        403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}
    )
    async with open_bar() as bar:
        agent = _agent(bar, ScriptedModel([failure]), GenAITelemetry())
        result = await agent.respond("table-3", "A beer")
        agent.close()
    spans = _maya_spans(exporter)
    root, chat = _one(spans, "invoke_agent maya"), _one(spans, "chat scripted")
    assert result.outcome == "model_error"
    assert chat.status.status_code is StatusCode.ERROR and chat.attributes is not None
    assert chat.attributes["error.type"] == result.error.category  # type: ignore[union-attr]
    assert root.status.status_code is StatusCode.ERROR


async def test_mcp_calls_of_a_turn_carry_its_trace_to_the_stripe_server(
    exporter: InMemorySpanExporter,
) -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "IPA"}), ("create_stripe_payment", {})]),
            text_response("Here is your link."),
        ]
    )
    async with open_bar() as bar:
        agent = _agent(bar, model, GenAITelemetry())
        await agent.respond("table-4", "An IPA and the bill")
        agent.close()
    finished = exporter.get_finished_spans()
    root = _one(_maya_spans(exporter), "invoke_agent maya")
    server = [s for s in finished if s.name.startswith("tools/call stripe_api_write")]
    assert server, [s.name for s in finished]
    by_id = {s.context.span_id: s for s in finished}
    for span in server:
        assert span.kind is SpanKind.SERVER
        assert span.context.trace_id == root.context.trace_id
        # The mcp SDK's own client span ("MCP send ...") sits between the turn and the server.
        assert span.parent is not None
        sender = by_id[span.parent.span_id]
        assert sender.kind is SpanKind.CLIENT and sender.name.startswith("MCP send tools/call")
        assert sender.parent is not None and sender.parent.span_id == root.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN  # the turn's span was detached


async def test_token_usage_is_recorded_on_the_chat_span(exporter: InMemorySpanExporter) -> None:
    answer = text_response("Good evening!")
    answer.usage_metadata = types.GenerateContentResponseUsageMetadata(
        prompt_token_count=1200, candidates_token_count=7, total_token_count=1207
    )
    async with open_bar() as bar:
        agent = _agent(bar, ScriptedModel([answer], name="gemini-2.5-flash"), GenAITelemetry())
        await agent.respond("table-6", "Evening!")
        agent.close()
    spans = _maya_spans(exporter)
    chat = _one(spans, "chat gemini-2.5-flash")
    assert chat.attributes is not None
    assert chat.attributes["gen_ai.usage.input_tokens"] == 1200
    assert chat.attributes["gen_ai.usage.output_tokens"] == 7
    assert chat.attributes["gen_ai.provider.name"] == "gcp.gemini"
    root = _one(spans, "invoke_agent maya")
    assert root.attributes is not None and root.attributes["gen_ai.request.model"] == (
        "gemini-2.5-flash"
    )
