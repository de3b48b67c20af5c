"""OpenTelemetry for Maya (extra ``[otel]``): GenAI spans, OTLP JSON, context propagation."""

from maya.otel.propagation import (
    configure_tracing_from_env,
)
from maya.otel.tracer import (
    GenAITelemetry,
    agent_tracer_from_env,
)

__all__ = [
    "GenAITelemetry",
    "agent_tracer_from_env",
    "configure_tracing_from_env",
]
