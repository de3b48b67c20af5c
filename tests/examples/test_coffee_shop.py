"""The coffee-shop recipes of docs/integrate.md, run from order to a paid sandbox link.

The model is a local Gemini stand-in (``fake_gemini``) that the real google-genai client
talks to over HTTP; payments go to the real sandbox (in memory). No tool result, message
or checkout product name may carry the bar's words.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from examples.coffee_shop import automatic_calling, manual_calling, mcp_host
from examples.coffee_shop.shop import shop_toolset
from google import genai
from google.genai import types
from mcp import Client
from mcp.client.stdio import stdio_client

from fake_gemini import FakeGemini, fake_gemini, function_call_body, text_body
from maya.payments import StripeMCPClient
from maya.sandbox import (
    CARD_SUCCESS,
    SandboxStore,
    apay_url,
    pay_link,
)
from shop_support import BANNED

pytestmark = pytest.mark.anyio

SESSION = "counter-1"


@pytest.fixture
def gemini() -> Iterator[FakeGemini]:
    with fake_gemini() as server:
        yield server


def client_for(server: FakeGemini) -> genai.Client:
    return genai.Client(
        api_key="test-key", http_options=types.HttpOptions(base_url=server.base_url)
    )


def script_the_order(server: FakeGemini) -> None:
    """Two flat whites and a croissant, a link; then, once paid, the status."""
    server.replies += [
        (200, function_call_body(("c1", "order_item", {"name": "Flat white", "quantity": 2}))),
        (200, function_call_body(("c2", "order_item", {"name": "Croissant"}))),
        (200, function_call_body(("c3", "create_stripe_payment", {}))),
        (200, text_body("Here is your link.")),
        (200, function_call_body(("c4", "check_payment_status", {}))),
        (200, text_body("Paid, thank you!")),
    ]


def function_responses(server: FakeGemini) -> list[dict[str, Any]]:
    """Every function response the client sent back to the model, in order."""
    found: list[dict[str, Any]] = []
    for request in server.requests:
        last = request.body["contents"][-1]
        for part in last.get("parts", []):
            if "functionResponse" in part:
                found.append(part["functionResponse"]["response"])
    return found


def link_in(responses: list[dict[str, Any]]) -> dict[str, Any]:
    for response in responses:
        inner = response.get("result", response)
        inner = inner.get("result", inner) if inner.get("status") == "ok" else inner
        if "url" in inner and "payment_id" in inner:
            return dict(inner)
    raise AssertionError(f"no payment link among {responses}")


def assert_neutral(server: FakeGemini, sandbox: SandboxStore, link: dict[str, Any]) -> None:
    text = json.dumps(function_responses(server), ensure_ascii=False)
    assert not BANNED.search(text), BANNED.findall(text)
    stored = sandbox.get_payment_link(link["payment_id"])
    assert stored is not None
    name = stored["line_items"]["data"][0]["description"]
    assert name == "Bean There: 3 items" and not BANNED.search(name)


async def test_manual_function_calling_from_order_to_paid(
    gemini: FakeGemini, payments: StripeMCPClient, sandbox: SandboxStore
) -> None:
    script_the_order(gemini)
    toolset = shop_toolset(payments, store_url="memory://")
    history: list[types.Content] = []
    client = client_for(gemini)
    with anyio.fail_after(60):
        reply = await manual_calling.take_turn(
            client, toolset, SESSION, history, "Two flat whites and a croissant, please."
        )
    assert reply == "Here is your link."
    link = link_in(function_responses(gemini))
    assert link["amount"] == "€8.50" and link["amount_cents"] == 850
    assert sandbox.get_payment_link(link["payment_id"])["currency"] == "eur"  # type: ignore[index]
    assert pay_link(sandbox, link["url"], CARD_SUCCESS).outcome == "paid"
    with anyio.fail_after(60):
        reply = await manual_calling.take_turn(client, toolset, SESSION, history, "Paid?")
    assert reply == "Paid, thank you!"
    status = function_responses(gemini)[-1]["result"]
    assert status["payment_status"] == "succeeded" and status["applied"] is True
    assert (await toolset.context.manager.get(SESSION)).tab_cents == 0
    assert_neutral(gemini, sandbox, link)


async def test_automatic_function_calling_from_order_to_paid(
    gemini: FakeGemini, payments: StripeMCPClient, sandbox: SandboxStore
) -> None:
    script_the_order(gemini)
    toolset = shop_toolset(payments, store_url="memory://")
    chat = automatic_calling.open_chat(client_for(gemini), toolset, SESSION)
    with anyio.fail_after(60):
        reply = await automatic_calling.take_turn(chat, "Two flat whites and a croissant.")
    assert reply == "Here is your link."
    responses = function_responses(gemini)
    # The SDK wraps what the function returns once ({"result": ...}); Maya adds nothing.
    assert all(set(r) == {"result"} and "status" not in r["result"] for r in responses)
    link = link_in([r["result"] for r in responses])
    assert link["amount"] == "€8.50"
    declared = gemini.requests[0].body["tools"][0]["functionDeclarations"]
    assert {d["name"] for d in declared} == set(toolset.tool_names)
    assert pay_link(sandbox, link["url"], CARD_SUCCESS).outcome == "paid"
    with anyio.fail_after(60):
        assert await automatic_calling.take_turn(chat, "Paid?") == "Paid, thank you!"
    status = function_responses(gemini)[-1]["result"]
    assert status["payment_status"] == "succeeded" and status["applied"] is True
    assert (await toolset.context.manager.get(SESSION)).tab_cents == 0
    assert_neutral(gemini, sandbox, link)


@pytest.mark.slow
async def test_an_mcp_host_on_maya_mcp_from_order_to_paid(
    gemini: FakeGemini, tmp_path: Path
) -> None:
    script_the_order(gemini)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAYA_SANDBOX_", "MAYA_MCP"))}
    env["MAYA_SANDBOX_DB"] = str(tmp_path / "sandbox.sqlite3")
    params = mcp_host.server_parameters(
        store_url=f"sqlite:///{tmp_path / 'tabs.sqlite3'}", environ=env, cwd=tmp_path
    )
    model = client_for(gemini)
    history: list[types.Content] = []
    with (tmp_path / "mcp.stderr").open("w+") as errlog, anyio.fail_after(90):
        async with Client(stdio_client(params, errlog=errlog)) as server:
            instructions = server.instructions or ""
            tools = await mcp_host.declarations(server)
            reply = await mcp_host.take_turn(
                model, server, tools, history, "Two flat whites and a croissant."
            )
            assert reply == "Here is your link."
            link = link_in(function_responses(gemini))
            assert link["amount"] == "€8.50" and link["provider"] == "sandbox"
            assert (await apay_url(link["url"], CARD_SUCCESS)).paid
            assert (
                await mcp_host.take_turn(model, server, tools, history, "Paid?")
                == "Paid, thank you!"
            )
        errlog.seek(0)
        said = errlog.read()
    status = function_responses(gemini)[-1]["result"]
    assert status["payment_status"] == "succeeded" and status["applied"] is True
    assert {t.name for t in tools} == set(mcp_host.TOOLS.split(","))
    assert "Bean There" in instructions and "EUR" in instructions
    assert not BANNED.search(instructions), instructions
    assert "sandbox" in said  # the offline default is said once, at start
    text = json.dumps(function_responses(gemini), ensure_ascii=False)
    assert not BANNED.search(text), BANNED.findall(text)
