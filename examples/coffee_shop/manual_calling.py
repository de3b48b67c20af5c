"""Bean There on google-genai with manual function calling: the app runs each call.

Run: ``GEMINI_API_KEY=... python -m examples.coffee_shop.manual_calling`` (payments go to
the Stripe of ``mcp.json``, or the local sandbox when there is none).
"""

from __future__ import annotations

import asyncio
import os

import anyio
from google import genai
from google.genai import types

from maya import Toolset, open_stripe_client

from .shop import INSTRUCTION, MODEL, shop_toolset

MAX_ROUNDS = 6


async def take_turn(
    client: genai.Client,
    toolset: Toolset,
    session_id: str,
    history: list[types.Content],
    message: str,
) -> str:
    """One customer message: ask the model, run the calls it asks for, until it answers.

    Raises:
        RuntimeError: the model kept calling tools for ``MAX_ROUNDS`` rounds.
    """
    history.append(types.Content(role="user", parts=[types.Part.from_text(text=message)]))
    config = types.GenerateContentConfig(
        system_instruction=INSTRUCTION,
        tools=[toolset.genai_tool()],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    for _ in range(MAX_ROUNDS):
        response = await client.aio.models.generate_content(
            model=MODEL, contents=history, config=config
        )
        calls = response.function_calls or []
        content = response.candidates[0].content if response.candidates else None
        if content is not None:
            history.append(content)
        if not calls:
            return response.text or ""
        # The amount charged comes from the stored bill: the model never passes one.
        parts = await toolset.dispatch(calls, session_id)
        history.append(types.Content(role="user", parts=parts))
    raise RuntimeError(f"the model was still calling tools after {MAX_ROUNDS} rounds")


async def main() -> None:
    """Chat in the terminal until an empty line."""
    client = genai.Client(api_key=os.environ["GEMINI_API_KEY"])
    async with open_stripe_client(sandbox=True) as payments:
        toolset = shop_toolset(payments)
        history: list[types.Content] = []
        while message := (await anyio.to_thread.run_sync(input, "you: ")).strip():
            print("shop:", await take_turn(client, toolset, "counter-1", history, message))


if __name__ == "__main__":
    asyncio.run(main())
