"""OpenTelemetry spans for Maya's agent, by the GenAI semantic conventions.

``GenAITelemetry`` is a ``maya.agent.Tracer``: each turn is an ``invoke_agent`` span with
``chat`` and ``execute_tool`` children; content is captured only when asked, redacted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer

from maya import __version__
from maya.agent.trace import EventType, tracer_from_env
from maya.agent.trace import Tracer as MayaTracer
from maya.otel.propagation import tracing_requested
from maya.redact import Redactor

__all__ = [
    "AGENT_NAME",
    "CAPTURE_CONTENT_ENV",
    "INSTRUMENTATION_NAME",
    "GenAITelemetry",
    "agent_tracer_from_env",
    "provider_name",
]

AGENT_NAME = "maya"
"""``gen_ai.agent.name`` of Maya's spans."""

INSTRUMENTATION_NAME = "maya"
"""The instrumentation scope of Maya's spans."""

CAPTURE_CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The GenAI instrumentations' opt-in for recording message and tool content."""

_NS = 1_000_000_000


def provider_name(model: str) -> str:
    """``gen_ai.provider.name`` for a model: Gemini's API, or Maya's own offline models."""
    return "gcp.gemini" if model.startswith(("gemini", "models/gemini")) else "maya"


def _ns(seconds: float) -> int:
    return int(seconds * _NS)


@dataclass(slots=True)
class _OpenTurn:
    span: Span
    token: object
    model: str
    started_ns: int
    system_instruction: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class GenAITelemetry:
    """A ``Tracer`` for ``maya.agent.Agent`` that records OpenTelemetry spans."""

    def __init__(
        self,
        *,
        tracer: Tracer | None = None,
        forward_to: MayaTracer | None = None,
        capture_content: bool | None = None,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the telemetry.

        Args:
            tracer: where spans go (default: the global provider's ``maya`` tracer).
            forward_to: another tracer that also receives every event (e.g. JSONL).
            capture_content: record messages, arguments and results; default: the
                ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` variable is ``true``.
            redactor: hides secrets in every string attribute.
            clock: Unix seconds, for events that carry no ``ts``.
        """
        self._tracer = tracer or trace.get_tracer(INSTRUMENTATION_NAME, __version__)
        self._forward = forward_to
        if capture_content is None:
            capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "").lower() == "true"
        self.capture_content = capture_content
        self._redactor = redactor if redactor is not None else Redactor()
        self._clock = clock
        self._turns: dict[tuple[str, int], _OpenTurn] = {}
        self._models: dict[str, str] = {}
        self._instructions: dict[str, str] = {}

    # -- the Tracer protocol ------------------------------------------------------------

    def wants_prompt(self, session_id: str, prompt_hash: str) -> bool:
        """Always: the prompt names the model (the forwarded tracer still gets it once)."""
        return True

    def path_for(self, session_id: str) -> Path | None:
        """The forwarded tracer's file, if any."""
        return None if self._forward is None else self._forward.path_for(session_id)

    def emit(self, event_type: EventType, session_id: str, turn: int, **fields: Any) -> None:
        """Record one event as spans; never raises for a malformed event."""
        if self._forward is not None and event_type != "prompt":
            self._forward.emit(event_type, session_id, turn, **fields)
        at = _ns(float(fields.get("ts") or self._clock()))
        handler = getattr(self, f"_on_{event_type}", None)
        if handler is not None:
            handler(session_id, turn, at, fields)

    # -- events ---------------------------------------------------------------------------

    def _text(self, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        return self._redactor.text(text)

    def _on_prompt(self, session_id: str, turn: int, at: int, fields: Mapping[str, Any]) -> None:
        model = fields.get("model")
        if isinstance(model, str):
            self._models[session_id] = model
        instruction = fields.get("system_instruction")
        if isinstance(instruction, str):
            self._instructions[session_id] = instruction
        if self._forward is not None and self._forward.wants_prompt(
            session_id, str(fields.get("hash", ""))
        ):
            self._forward.emit("prompt", session_id, turn, **fields)

    def _on_turn_start(
        self, session_id: str, turn: int, at: int, fields: Mapping[str, Any]
    ) -> None:
        for key in [k for k in self._turns if k[0] == session_id]:
            # A turn that never ended (its task failed): close it so it cannot be a parent.
            stale = self._turns.pop(key)
            stale.span.set_status(Status(StatusCode.ERROR, "the turn did not finish"))
            stale.span.end(end_time=at)
            _detach(stale.token)
        model = self._models.get(session_id, "unknown")
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": AGENT_NAME,
            "gen_ai.conversation.id": self._text(session_id),
            "gen_ai.provider.name": provider_name(model),
            "gen_ai.request.model": model,
            "maya.turn": turn,
        }
        if self.capture_content:
            message = [
                {"role": "user", "parts": [{"type": "text", "content": fields.get("message")}]}
            ]
            attributes["gen_ai.input.messages"] = self._text(message)
            instruction = self._instructions.get(session_id)
            if instruction is not None:
                attributes["gen_ai.system_instructions"] = self._text(
                    [{"type": "text", "content": instruction}]
                )
        span = self._tracer.start_span(
            f"invoke_agent {AGENT_NAME}",
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=at,
        )
        # The agent span is current for the rest of the turn, so MCP calls made meanwhile
        # carry its trace context.
        token = otel_context.attach(trace.set_span_in_context(span))
        self._turns[(session_id, turn)] = _OpenTurn(span, token, model, at)

    def _parent(self, session_id: str, turn: int) -> otel_context.Context | None:
        open_turn = self._turns.get((session_id, turn))
        return None if open_turn is None else trace.set_span_in_context(open_turn.span)

    def _on_model_call(
        self, session_id: str, turn: int, at: int, fields: Mapping[str, Any]
    ) -> None:
        request = fields.get("request")
        request = request if isinstance(request, Mapping) else {}
        model = str(request.get("model") or self._models.get(session_id, "unknown"))
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider_name(model),
            "gen_ai.request.model": model,
            "gen_ai.conversation.id": self._text(session_id),
        }
        usage = fields.get("usage")
        if isinstance(usage, Mapping):
            for key, name in (
                ("promptTokenCount", "gen_ai.usage.input_tokens"),
                ("prompt_token_count", "gen_ai.usage.input_tokens"),
                ("candidatesTokenCount", "gen_ai.usage.output_tokens"),
                ("candidates_token_count", "gen_ai.usage.output_tokens"),
            ):
                if isinstance(usage.get(key), int):
                    attributes[name] = usage[key]
        if self.capture_content:
            attributes["gen_ai.input.messages"] = self._text(request.get("last", []))
            if "response" in fields:
                attributes["gen_ai.output.messages"] = self._text(
                    [{"role": "assistant", "parts": fields["response"]}]
                )
        error = fields.get("error")
        failed = str(error.get("category", "model_error")) if isinstance(error, Mapping) else None
        where = (session_id, turn, at)
        self._child(f"chat {model}", SpanKind.CLIENT, where, fields, attributes, failed)

    def _on_tool_call(self, session_id: str, turn: int, at: int, fields: Mapping[str, Any]) -> None:
        name = str(fields.get("name") or "")
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": self._text(name),
            "gen_ai.tool.type": "function",
        }
        if fields.get("id"):
            attributes["gen_ai.tool.call.id"] = self._text(str(fields["id"]))
        if self.capture_content:
            attributes["gen_ai.tool.call.arguments"] = self._text(fields.get("args", {}))
            attributes["gen_ai.tool.call.result"] = self._text(fields.get("result", {}))
        result = fields.get("result")
        failed = None
        if isinstance(result, Mapping) and result.get("status") == "error":
            failed = self._text(str(result.get("error", "tool_error")))
        where = (session_id, turn, at)
        self._child(f"execute_tool {name}", SpanKind.INTERNAL, where, fields, attributes, failed)

    def _child(
        self,
        name: str,
        kind: SpanKind,
        where: tuple[str, int, int],
        fields: Mapping[str, Any],
        attributes: dict[str, Any],
        error_type: str | None,
    ) -> None:
        """A span under the turn's agent span, ending at ``at`` after the event's ``ms``."""
        session_id, turn, at = where
        span = self._tracer.start_span(
            name,
            context=self._parent(session_id, turn),
            kind=kind,
            attributes=attributes,
            start_time=at - _ns(float(fields.get("ms") or 0) / 1000),
        )
        if error_type is not None:
            span.set_attribute("error.type", error_type)
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=at)

    def _on_state_change(
        self, session_id: str, turn: int, at: int, fields: Mapping[str, Any]
    ) -> None:
        open_turn = self._turns.get((session_id, turn))
        if open_turn is None:
            return
        versions = fields.get("version")
        attributes: dict[str, Any] = {"maya.tab.operation": str(fields.get("operation", ""))}
        if isinstance(versions, list) and len(versions) == 2 and isinstance(versions[1], int):
            attributes["maya.tab.version"] = versions[1]
        open_turn.span.add_event("maya.tab.changed", attributes=attributes, timestamp=at)

    def _on_turn_end(self, session_id: str, turn: int, at: int, fields: Mapping[str, Any]) -> None:
        open_turn = self._turns.pop((session_id, turn), None)
        if open_turn is None:
            return
        span = open_turn.span
        outcome = str(fields.get("outcome", "ok"))
        span.set_attribute("maya.turn.outcome", outcome)
        for key in ("model_calls", "tool_calls"):
            if isinstance(fields.get(key), int):
                span.set_attribute(f"maya.turn.{key}", fields[key])
        if self.capture_content:
            reply = [
                {"role": "assistant", "parts": [{"type": "text", "content": fields.get("reply")}]}
            ]
            span.set_attribute("gen_ai.output.messages", self._text(reply))
        if outcome == "model_error":
            span.set_attribute("error.type", str(fields.get("error") or "model_error"))
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=at)
        _detach(open_turn.token)


def _detach(token: Any) -> None:
    # OpenTelemetry logs (never raises) when the token belongs to another context.
    otel_context.detach(token)


def agent_tracer_from_env(environ: Mapping[str, str] | None = None) -> MayaTracer:
    """The agent's tracer as the environment asks: JSONL under ``MAYA_TRACE_DIR`` (or
    none), and GenAI spans on top when ``OTEL_*`` asks for export.

    Call ``configure_tracing_from_env`` once at start-up so the spans go somewhere.
    """
    base = tracer_from_env(environ)
    if not tracing_requested(environ):
        return base
    return GenAITelemetry(forward_to=base)
