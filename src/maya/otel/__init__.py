"""OpenTelemetry for Maya (extra ``[otel]``): GenAI spans, OTLP JSON, context propagation."""

from maya.otel.propagation import (
    configure_tracing_from_env,
    inject_trace_context,
    tracing_requested,
)
from maya.otel.tracer import (
    AGENT_NAME,
    CAPTURE_CONTENT_ENV,
    INSTRUMENTATION_NAME,
    GenAITelemetry,
    agent_tracer_from_env,
    provider_name,
)

__all__ = [
    "AGENT_NAME",
    "CAPTURE_CONTENT_ENV",
    "INSTRUMENTATION_NAME",
    "GenAITelemetry",
    "agent_tracer_from_env",
    "configure_tracing_from_env",
    "inject_trace_context",
    "provider_name",
    "tracing_requested",
]
