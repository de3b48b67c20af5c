"""A payment link made during a turn: the Stripe MCP server's spans join the turn's trace.

The sandbox does not export spans yet (the wiring belongs to ``maya.sandbox``); this test
spawns it over stdio with the one line that wiring would add (``configure_tracing_from_env``
with a file exporter), so what it checks is the rest of the chain: the agent's span is
current, ``StripeMCPClient`` sends over a real pipe, the mcp SDK injects ``traceparent``,
and the sandbox's ``tools/call`` spans carry the turn's trace id.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr

from maya.agent import Agent
from maya.agent.models.base import calls_response, text_response
from maya.bar.menu import bar_messages, load_menu
from maya.otel import GenAITelemetry
from maya.payments import McpServerConfig, StripeMCPClient, Timeouts
from maya.state import MemoryTabStore, TabManager
from maya.testing import ScriptedModel
from maya.tools import Toolset

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

# The sandbox's entry point with spans written, one JSON object a line, to argv[1].
_SANDBOX_WITH_TRACING = """
import json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

class ToFile(SpanExporter):
    def __init__(self, path): self.path = path
    def export(self, spans):
        with open(self.path, "a") as out:
            for s in spans:
                parent = s.parent.span_id if s.parent else None
                out.write(json.dumps({"name": s.name, "trace_id": s.context.trace_id,
                                      "parent_id": parent}) + "\\n")
        return SpanExportResult.SUCCESS

provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(ToFile(sys.argv[1])))
trace.set_tracer_provider(provider)
from maya.sandbox.__main__ import main
sys.exit(main(sys.argv[2:]))
"""


async def test_the_sandboxs_spans_carry_the_turns_trace(tmp_path: Path) -> None:
    spans_file = tmp_path / "sandbox-spans.jsonl"
    config = McpServerConfig(
        name="sandbox",
        transport="stdio",
        command=sys.executable,
        args=tuple(
            SecretStr(a)
            for a in (
                "-c",
                _SANDBOX_WITH_TRACING,
                str(spans_file),
                "--db",
                str(tmp_path / "sandbox.sqlite3"),
            )
        ),
        mode="test",
    )
    provider = TracerProvider()
    ours = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(ours))
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Brandy"}), ("create_stripe_payment", {})]),
            text_response("Here is your link."),
        ]
    )
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    with anyio.fail_after(60):
        async with StripeMCPClient.from_config(config, timeouts=Timeouts(probe_s=20.0)) as stripe:
            agent = Agent(
                model=model,
                toolset=Toolset(manager=manager, payments=stripe, messages=bar_messages()),
                tracer=GenAITelemetry(tracer=provider.get_tracer("maya")),
            )
            result = await agent.respond("table-5", "A brandy, and the bill")
    link = result.calls_named("create_stripe_payment")[0]
    assert link.ok and link.result["is_simulated"] is False
    [root] = [s for s in ours.get_finished_spans() if s.name == "invoke_agent maya"]
    sandbox = [json.loads(line) for line in spans_file.read_text("utf-8").splitlines()]
    calls = [s for s in sandbox if s["name"].startswith("tools/call stripe_api_write")]
    assert calls, sandbox
    assert {s["trace_id"] for s in calls} == {root.context.trace_id}
