"""``maya trace FILE --otlp-json OUT``, and a trace that crosses into ``maya mcp``."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from google.protobuf import json_format
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from maya.agent import Agent, JsonlTracer, NullTracer
from maya.agent.models.base import calls_response, text_response
from maya.cli import main
from maya.otel import GenAITelemetry, agent_tracer_from_env, configure_tracing_from_env
from maya.testing import ScriptedModel
from surface_bar import open_bar

pytestmark = pytest.mark.anyio


async def _write_trace(folder: Path) -> Path:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Daiquiri"})]),
            text_response("A Daiquiri, $10.00."),
            calls_response([("set_tip", {"percent": 15})], start=2),
            text_response("Tip added."),
        ]
    )
    jsonl = JsonlTracer(folder)
    async with open_bar() as bar:
        telemetry = GenAITelemetry(tracer=TracerProvider().get_tracer("t"), forward_to=jsonl)
        agent = Agent(model=model, toolset=bar.toolset, tracer=telemetry, manager=bar.manager)
        await agent.respond("table-9", "A daiquiri")
        await agent.respond("table-9", "15% tip")
        agent.close()
    path = jsonl.path_for("table-9")
    assert path.exists()
    return path


def _ids_to_base64(document: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON writes ids in hex; protobuf's JSON mapping reads bytes as base64."""
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return document


async def test_a_jsonl_trace_converts_to_otlp_json_that_the_otlp_schema_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace_file = await _write_trace(tmp_path / "traces")
    events = [json.loads(line) for line in trace_file.read_text("utf-8").splitlines()]
    assert [e["type"] for e in events].count("prompt") == 1  # forwarded once, as JSONL does
    out = tmp_path / "trace.otlp.json"
    assert main(["trace", str(trace_file), "--otlp-json", str(out)]) == 0
    assert "(8 spans)" in capsys.readouterr().out
    document = json.loads(out.read_text("utf-8"))
    request = ExportTraceServiceRequest()
    json_format.ParseDict(_ids_to_base64(json.loads(out.read_text("utf-8"))), request)
    [resource] = request.resource_spans
    assert {a.key: a.value.string_value for a in resource.resource.attributes}[
        "service.name"
    ] == "maya"
    spans = [s for scope in resource.scope_spans for s in scope.spans]
    names = sorted(s.name for s in spans)
    assert names == sorted(
        ["invoke_agent maya"] * 2
        + ["chat scripted"] * 4
        + ["execute_tool order_drink"]
        + ["execute_tool set_tip"]
    )
    roots = {s.span_id for s in spans if s.name == "invoke_agent maya"}
    assert all(s.parent_span_id in roots for s in spans if s.name != "invoke_agent maya")
    first_turn = next(e for e in events if e["type"] == "turn_start")
    root_start = min(s.start_time_unix_nano for s in spans if s.name == "invoke_agent maya")
    assert root_start == int(first_turn["ts"] * 1_000_000_000)
    raw = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert re.fullmatch(r"[0-9a-f]{32}", raw["traceId"])
    assert "Daiquiri" not in out.read_text("utf-8")  # content only with --otlp-content


async def test_content_and_unreadable_files(tmp_path: Path) -> None:
    trace_file = await _write_trace(tmp_path / "traces")
    out = tmp_path / "with-content.json"
    assert main(["trace", str(trace_file), "--otlp-json", str(out), "--otlp-content"]) == 0
    assert "Daiquiri" in out.read_text("utf-8")
    assert main(["trace", str(tmp_path / "missing.jsonl"), "--otlp-json", str(out)]) == 1


def test_tracing_is_configured_only_when_asked_for() -> None:
    assert isinstance(agent_tracer_from_env({}), NullTracer)
    both = agent_tracer_from_env({"OTEL_TRACES_EXPORTER": "console", "MAYA_TRACE_DIR": "t"})
    assert isinstance(both, GenAITelemetry) and both.path_for("s") is not None
    assert configure_tracing_from_env("x", environ={})() is None
    assert configure_tracing_from_env("x", environ={"OTEL_TRACES_EXPORTER": "none"})() is None
    assert configure_tracing_from_env("x", environ={"OTEL_TRACES_EXPORTER": "zipkin"})() is None


@pytest.mark.slow
async def test_a_call_into_maya_mcp_joins_the_callers_trace(
    tmp_path: Path, exporter: InMemorySpanExporter
) -> None:
    from opentelemetry import trace

    env = {k: v for k, v in os.environ.items() if not k.startswith("MAYA_SANDBOX_")}
    env |= {"OTEL_TRACES_EXPORTER": "console", "MAYA_SANDBOX_DB": str(tmp_path / "s.sqlite3")}
    params = StdioServerParameters(
        command=str(Path(sys.executable).with_name("maya")),
        args=["mcp", "--store", "memory://"],
        env=env,
        cwd=str(tmp_path),
    )
    tracer = trace.get_tracer("test")
    with (tmp_path / "stderr.txt").open("w+") as errlog:
        with anyio.fail_after(60):
            async with Client(stdio_client(params, errlog=errlog)) as client:
                with tracer.start_as_current_span("customer asks") as span:
                    menu = await client.call_tool("get_menu", {})
        errlog.seek(0)
        printed = errlog.read()
    assert not menu.is_error
    ours = f"0x{span.get_span_context().trace_id:032x}"
    server_span = re.search(
        r'"name": "tools/call get_menu".*?"trace_id": "(0x[0-9a-f]+)"', printed, re.S
    )
    assert server_span is not None, printed[-2000:]
    assert server_span.group(1) == ours
