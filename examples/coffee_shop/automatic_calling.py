"""Bean There on google-genai with automatic function calling: the SDK runs the tools.

``Toolset.callables(session_id)`` gives one typed async function per tool (the
declaration's description as its docstring); each returns the tool's result, which the
SDK sends back to the model.

Run: ``GEMINI_API_KEY=... python -m examples.coffee_shop.automatic_calling``.
"""

from __future__ import annotations

import asyncio
import os

import anyio
from google import genai
from google.genai import types

from maya import Toolset, open_stripe_client

from .shop import INSTRUCTION, MODEL, shop_toolset


def open_chat(client: genai.Client, toolset: Toolset, session_id: str) -> genai.chats.AsyncChat:
    """A chat whose tools run automatically, on ``session_id``'s bill."""
    config = types.GenerateContentConfig(
        system_instruction=INSTRUCTION,
        tools=[*toolset.callables(session_id)],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(maximum_remote_calls=8),
    )
    return client.aio.chats.create(model=MODEL, config=config)


async def take_turn(chat: genai.chats.AsyncChat, message: str) -> str:
    """One customer message; the SDK calls the tools the model asks for."""
    response = await chat.send_message(message)
    return response.text or ""


async def main() -> None:
    """Chat in the terminal until an empty line."""
    client = genai.Client(api_key=os.environ["GEMINI_API_KEY"])
    async with open_stripe_client(sandbox=True) as payments:
        chat = open_chat(client, shop_toolset(payments), "counter-1")
        while message := (await anyio.to_thread.run_sync(input, "you: ")).strip():
            print("shop:", await take_turn(chat, message))


if __name__ == "__main__":
    asyncio.run(main())
