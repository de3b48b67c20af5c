"""Running an ADK agent turn by turn in tests."""

from __future__ import annotations

from typing import Any

from google.adk.events.event import Event
from google.adk.runners import InMemoryRunner
from google.genai import types

USER = "guest"


async def say(runner: InMemoryRunner, session_id: str, message: str | types.Part) -> list[Event]:
    """Send the customer's message (text, or a part such as a function response)."""
    part = types.Part(text=message) if isinstance(message, str) else message
    events: list[Event] = []
    async for event in runner.run_async(
        user_id=USER,
        session_id=session_id,
        new_message=types.Content(role="user", parts=[part]),
    ):
        events.append(event)
    return events


def responses(events: list[Event], name: str) -> list[dict[str, Any]]:
    """The function responses to ``name`` in ``events``."""
    return [
        dict(response.response or {})
        for event in events
        for response in event.get_function_responses()
        if response.name == name
    ]


def texts(events: list[Event]) -> str:
    """Everything the agent said in words."""
    return "\n".join(
        part.text
        for event in events
        if event.content is not None
        for part in event.content.parts or []
        if part.text
    )
