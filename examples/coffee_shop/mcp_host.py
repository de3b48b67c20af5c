"""Bean There as an MCP host: ``maya mcp --catalog`` serves the tools, Gemini calls them.

The host spawns ``maya mcp`` over stdio, declares the server's tools to Gemini as they are
listed (name, description, input schema) and runs each call on the server. Any MCP host
(Claude Desktop, Gemini CLI, Kiro...) can do the same with this ``mcp.json`` entry::

    "bean-there": {"command": "maya", "args": ["mcp", "--catalog", "catalog.yaml"]}

Run: ``GEMINI_API_KEY=... python -m examples.coffee_shop.mcp_host``.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
from google import genai
from google.genai import types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from .shop import CATALOG_FILE, MODEL

MAX_ROUNDS = 6
TOOLS = "get_catalog,order_item,get_bill,create_stripe_payment,check_payment_status"


def server_parameters(
    *, store_url: str, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> StdioServerParameters:
    """``maya mcp`` with the shop's catalog and tools, over stdio."""
    maya = Path(sys.executable).with_name("maya")
    return StdioServerParameters(
        command=str(maya),
        args=["mcp", "--catalog", str(CATALOG_FILE), "--tools", TOOLS, "--store", store_url],
        env=dict(os.environ if environ is None else environ),
        cwd=str(cwd) if cwd is not None else None,
    )


async def declarations(client: Client) -> list[types.FunctionDeclaration]:
    """The server's tools as Gemini function declarations."""
    listed = await client.list_tools()
    return [
        types.FunctionDeclaration(
            name=tool.name,
            description=tool.description or "",
            parameters_json_schema=tool.input_schema
            if tool.input_schema.get("properties")
            else None,
        )
        for tool in listed.tools
    ]


async def take_turn(
    model: genai.Client,
    server: Client,
    tools: Sequence[types.FunctionDeclaration],
    history: list[types.Content],
    message: str,
) -> str:
    """One customer message: Gemini asks, the MCP server runs each call, until an answer.

    Raises:
        RuntimeError: the model kept calling tools for ``MAX_ROUNDS`` rounds.
    """
    history.append(types.Content(role="user", parts=[types.Part.from_text(text=message)]))
    config = types.GenerateContentConfig(
        system_instruction=server.instructions,
        tools=[types.Tool(function_declarations=list(tools))],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    for _ in range(MAX_ROUNDS):
        response = await model.aio.models.generate_content(
            model=MODEL, contents=history, config=config
        )
        calls = response.function_calls or []
        content = response.candidates[0].content if response.candidates else None
        if content is not None:
            history.append(content)
        if not calls:
            return response.text or ""
        parts: list[types.Part] = []
        for call in calls:
            result = await server.call_tool(call.name or "", dict(call.args or {}))
            answer: dict[str, Any] = (
                result.structured_content if isinstance(result.structured_content, dict) else {}
            )
            parts.append(
                types.Part(
                    function_response=types.FunctionResponse(
                        id=call.id, name=call.name, response=answer
                    )
                )
            )
        history.append(types.Content(role="user", parts=parts))
    raise RuntimeError(f"the model was still calling tools after {MAX_ROUNDS} rounds")


async def main() -> None:
    """Chat in the terminal until an empty line."""
    model = genai.Client(api_key=os.environ["GEMINI_API_KEY"])
    store = f"sqlite:///{Path.home() / '.bean-there-tabs.sqlite3'}"
    async with Client(stdio_client(server_parameters(store_url=store))) as server:
        tools = await declarations(server)
        history: list[types.Content] = []
        while message := (await anyio.to_thread.run_sync(input, "you: ")).strip():
            print("shop:", await take_turn(model, server, tools, history, message))


if __name__ == "__main__":
    asyncio.run(main())
