"""OpenTelemetry for Maya (extra ``[otel]``): GenAI spans, OTLP JSON, context propagation."""

from maya.otel.propagation import configure_tracing_from_env, inject_trace_context
from maya.otel.tracer import (
    AGENT_NAME,
    CAPTURE_CONTENT_ENV,
    INSTRUMENTATION_NAME,
    GenAITelemetry,
    provider_name,
)

__all__ = [
    "AGENT_NAME",
    "CAPTURE_CONTENT_ENV",
    "INSTRUMENTATION_NAME",
    "GenAITelemetry",
    "configure_tracing_from_env",
    "inject_trace_context",
    "provider_name",
]
