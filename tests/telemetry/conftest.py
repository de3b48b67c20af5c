"""Spans recorded in memory with the OpenTelemetry SDK."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

_GLOBAL: list[InMemorySpanExporter] = []


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """The process-wide provider's exporter (the mcp SDK's spans go there), emptied.

    OpenTelemetry lets a process set its provider once, so the first test sets it.
    """
    if not _GLOBAL:
        provider = TracerProvider()
        memory = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        trace.set_tracer_provider(provider)
        _GLOBAL.append(memory)
    memory = _GLOBAL[0]
    memory.clear()
    yield memory
    memory.clear()
