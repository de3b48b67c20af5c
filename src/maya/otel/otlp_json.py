"""Spans as OTLP JSON, and a Maya JSONL trace converted to it (``maya trace FILE --otlp-json``).

The trace's events are replayed through ``GenAITelemetry`` with their own timestamps into
an in-memory SDK provider (needs the ``[otel]`` extra).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from maya import __version__
from maya.agent.trace import read_trace
from maya.otel.tracer import INSTRUMENTATION_NAME, GenAITelemetry

__all__ = ["SERVICE_NAME", "otlp_json", "replay_trace", "trace_to_otlp_json"]

SERVICE_NAME = "maya"
"""``service.name`` of the converted spans."""

_BASE_KEYS = ("ts", "type", "session_id", "turn")


def _value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_value(item) for item in value]}}
    return {"stringValue": str(value)}


def _attributes(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    return [{"key": key, "value": _value(value)} for key, value in (attributes or {}).items()]


def _span(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None  # finished SDK spans always have one
    encoded: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}",
        "spanId": f"{context.span_id:016x}",
        "name": span.name,
        # OTLP numbers kinds from 1 (INTERNAL); the Python API from 0.
        "kind": span.kind.value + 1,
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": _attributes(span.attributes),
        "events": [
            {
                "timeUnixNano": str(event.timestamp),
                "name": event.name,
                "attributes": _attributes(event.attributes),
            }
            for event in span.events
        ],
        "status": {"code": span.status.status_code.value},
    }
    if span.parent is not None:
        encoded["parentSpanId"] = f"{span.parent.span_id:016x}"
    if span.status.description:
        encoded["status"]["message"] = span.status.description
    return encoded


def otlp_json(spans: Iterable[ReadableSpan]) -> dict[str, Any]:
    """Finished spans as one OTLP/JSON ``ExportTraceServiceRequest``, grouped by resource
    and instrumentation scope."""
    resources: dict[int, tuple[Resource, dict[tuple[str, str], list[dict[str, Any]]]]] = {}
    for span in spans:
        _, scopes = resources.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version or "") if scope is not None else ("", "")
        scopes.setdefault(key, []).append(_span(span))
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": _attributes(resource.attributes)},
                "scopeSpans": [
                    {"scope": {"name": name, "version": version}, "spans": encoded}
                    for (name, version), encoded in scopes.items()
                ],
            }
            for resource, scopes in resources.values()
        ]
    }


def replay_trace(
    events: Iterable[Mapping[str, Any]], *, capture_content: bool = False
) -> tuple[ReadableSpan, ...]:
    """The spans ``GenAITelemetry`` records for ``events`` (a JSONL trace's, in order).

    Raises:
        ValueError: an event lacks its type, session or turn.
    """
    provider = TracerProvider(
        resource=Resource.create({"service.name": SERVICE_NAME, "service.version": __version__})
    )
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = GenAITelemetry(
        tracer=provider.get_tracer(INSTRUMENTATION_NAME, __version__),
        capture_content=capture_content,
    )
    for number, event in enumerate(events, start=1):
        kind, session, turn = event.get("type"), event.get("session_id"), event.get("turn")
        if not isinstance(kind, str) or not isinstance(session, str) or not isinstance(turn, int):
            raise ValueError(f"event {number}: needs a type, a session_id and a turn")
        fields = {k: v for k, v in event.items() if k not in _BASE_KEYS}
        telemetry.emit(kind, session, turn, ts=event.get("ts"), **fields)
    provider.shutdown()
    return exporter.get_finished_spans()


def trace_to_otlp_json(path: Path, *, capture_content: bool = False) -> dict[str, Any]:
    """The JSONL trace at ``path`` as OTLP JSON.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not a trace.
    """
    return otlp_json(replay_trace(read_trace(path), capture_content=capture_content))
