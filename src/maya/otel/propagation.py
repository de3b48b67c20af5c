"""Joining traces across processes: a tracer provider that exports, configured from the
standard variables (``configure_tracing_from_env``), and the MCP trace context
(``inject_trace_context``) for a ``_meta`` built by hand.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from opentelemetry import propagate, trace

from maya import __version__

__all__ = [
    "TRACES_EXPORTER_ENV",
    "configure_tracing_from_env",
    "inject_trace_context",
    "tracing_requested",
]

TRACES_EXPORTER_ENV = "OTEL_TRACES_EXPORTER"
"""``otlp`` (the default when an OTLP endpoint is set), ``console`` (to stderr) or ``none``."""

_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_log = logging.getLogger("maya.otel")


def inject_trace_context(meta: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Add the current trace context (``traceparent``, ``tracestate``) to an MCP ``_meta``.

    Returns:
        ``meta`` itself, for chaining; unchanged when no span is current.
    """
    propagate.inject(meta)
    return meta


def _exporter_choice(env: Mapping[str, str]) -> str:
    choice = env.get(TRACES_EXPORTER_ENV, "").strip().lower()
    if not choice:
        choice = "otlp" if any(env.get(name) for name in _ENDPOINTS) else "none"
    return choice


def tracing_requested(environ: Mapping[str, str] | None = None) -> bool:
    """True when the ``OTEL_*`` variables ask for spans to be exported."""
    return _exporter_choice(os.environ if environ is None else environ) != "none"


def configure_tracing_from_env(
    service_name: str, *, environ: Mapping[str, str] | None = None
) -> Callable[[], None]:
    """Export this process's spans as the ``OTEL_*`` variables say; returns ``shutdown``.

    Nothing is configured (and ``shutdown`` does nothing) unless ``OTEL_TRACES_EXPORTER``
    or an OTLP endpoint is set, or when the ``[otel]`` extra is not installed. The console
    exporter writes to stderr, since stdout may be an MCP channel.
    """
    env = os.environ if environ is None else environ
    choice = _exporter_choice(env)
    if choice == "none":
        return lambda: None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            ConsoleSpanExporter,
            SimpleSpanProcessor,
        )
    except ImportError:
        _log.warning(
            "%s=%s needs the [otel] extra; spans are not exported", TRACES_EXPORTER_ENV, choice
        )
        return lambda: None
    resource = Resource.create({"service.name": service_name, "service.version": __version__})
    provider = TracerProvider(resource=resource)
    if choice == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    elif choice == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            _log.warning("the OTLP exporter is not installed (the [otel] extra); no export")
            return lambda: None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        _log.warning("%s=%s is not supported (otlp, console, none)", TRACES_EXPORTER_ENV, choice)
        return lambda: None
    trace.set_tracer_provider(provider)
    return provider.shutdown
