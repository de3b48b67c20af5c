"""The declarations pass through the real google-genai client to a local stand-in for Gemini."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest
from google import genai
from google.genai import types

from maya.tools import Toolset

MODEL_REPLY = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {
                        "functionCall": {
                            "id": "call-1",
                            "name": "order_drink",
                            "args": {"name": "Martini", "quantity": 2},
                        }
                    },
                    {"functionCall": {"id": "call-2", "name": "get_bill", "args": {}}},
                ],
            },
            "finishReason": "STOP",
        }
    ],
    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
}


@dataclass
class FakeGemini:
    """A local generateContent endpoint that records what it was sent."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """Serve the fake endpoint on 127.0.0.1 in a background thread."""
    fake = FakeGemini()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            fake.requests.append(json.loads(self.rfile.read(length)))
            fake.paths.append(self.path)
            fake.headers.append(dict(self.headers))
            body = json.dumps(MODEL_REPLY).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.anyio
async def test_declarations_reach_gemini_as_intended_and_calls_come_back(
    fake_gemini: FakeGemini, toolset: Toolset
) -> None:
    client = genai.Client(
        api_key="test-key",
        http_options=types.HttpOptions(
            base_url=f"http://127.0.0.1:{fake_gemini.port}", api_version="v1beta"
        ),
    )
    config = types.GenerateContentConfig(
        tools=[toolset.genai_tool()],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    with anyio.fail_after(30):
        response = await client.aio.models.generate_content(
            model="gemini-2.5-flash", contents="Two martinis, please.", config=config
        )
        await client.aio.aclose()

    (request,) = fake_gemini.requests
    assert fake_gemini.paths[0].startswith("/v1beta/models/gemini-2.5-flash:generateContent")
    (tool,) = request["tools"]
    sent = {d["name"]: d for d in tool["functionDeclarations"]}
    assert list(sent) == list(toolset.tool_names)
    for declaration in toolset.declarations:
        wire = sent[declaration.name or ""]
        assert wire["description"] == declaration.description
        # google-genai 3.x sends the proto field name, which Gemini's JSON mapping accepts
        # alongside the camelCase one; either way it is the JSON-schema field.
        schema = wire.get("parametersJsonSchema", wire.get("parameters_json_schema"))
        assert schema == declaration.parameters_json_schema
        assert "parameters" not in wire  # not the OpenAPI-subset field
    assert set(sent["order_drink"]) & {"parametersJsonSchema", "parameters_json_schema"}
    assert set(sent["create_stripe_payment"]) == {"name", "description"}

    calls = response.function_calls or []
    parts = await toolset.dispatch(calls, "wire-session")
    responses = [p.function_response for p in parts]
    assert [(r.id, r.name) for r in responses if r] == [
        ("call-1", "order_drink"),
        ("call-2", "get_bill"),
    ]
    bill = responses[1].response if responses[1] else None
    assert bill is not None and bill["status"] == "ok"
    assert bill["result"]["tab_cents"] == 2600  # the second call saw the first one's order
