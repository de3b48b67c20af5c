"""The declarations pass through the real google-genai client to a local stand-in for Gemini
(the one in ``tests/fake_gemini.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from google import genai
from google.genai import types

from fake_gemini import FakeGemini, fake_gemini, function_call_body
from maya.tools import Toolset


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    """The local Gemini, answering with two function calls."""
    with fake_gemini() as fake:
        fake.replies.append(
            (
                200,
                function_call_body(
                    ("call-1", "order_drink", {"name": "Martini", "quantity": 2}),
                    ("call-2", "get_bill", {}),
                ),
            )
        )
        yield fake


@pytest.mark.anyio
async def test_declarations_reach_gemini_as_intended_and_calls_come_back(
    gemini: FakeGemini, toolset: Toolset
) -> None:
    client = genai.Client(
        api_key="test-key",
        http_options=types.HttpOptions(base_url=gemini.base_url, api_version="v1beta"),
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

    (request,) = gemini.requests
    assert request.path.startswith("/v1beta/models/gemini-2.5-flash:generateContent")
    (tool,) = request.body["tools"]
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
