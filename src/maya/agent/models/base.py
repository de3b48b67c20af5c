"""The model seam: what the chat loop asks of a model, in google-genai's own types.

Every model (Gemini, offline, scripted) answers the same ``types`` in and out, so the
loop cannot tell a scripted reply from a real one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from google.genai import types

__all__ = [
    "Model",
    "calls_response",
    "function_calls_of",
    "response_content",
    "response_from_parts",
    "text_of",
    "text_response",
]


Contents = Sequence[types.Content]
"""The conversation so far, oldest first, as a model is handed it."""
Tools = Sequence[types.Tool]
"""The tools a model may call."""
Reply = types.GenerateContentResponse
"""One answer of a model."""
OnText = Callable[[str], Awaitable[None]]
"""Handed each text chunk of an answer as it streams."""


@runtime_checkable
class Model(Protocol):
    """Anything that can answer one step of a conversation.

    Attributes:
        name: what the model is called in traces and banners (e.g. ``gemini-2.5-flash``).
    """

    name: str

    async def generate(self, *, system_instruction: str, contents: Contents, tools: Tools) -> Reply:
        """Answer the conversation so far with text, function calls, or both.

        Raises:
            google.genai.errors.APIError: when the provider refuses or fails.
        """
        ...


def response_from_parts(parts: Sequence[types.Part]) -> types.GenerateContentResponse:
    """Wrap model parts in a response shaped like Gemini's (one candidate, role ``model``)."""
    return types.GenerateContentResponse(
        candidates=[
            types.Candidate(
                content=types.Content(role="model", parts=list(parts)),
                finish_reason=types.FinishReason.STOP,
                index=0,
            )
        ]
    )


def text_response(text: str) -> types.GenerateContentResponse:
    """A response holding only ``text``."""
    return response_from_parts([types.Part(text=text)])


def calls_response(
    calls: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    text: str | None = None,
    id_prefix: str = "call",
    start: int = 1,
) -> types.GenerateContentResponse:
    """A response asking for function ``calls`` (name, args), each with a fresh id.

    Args:
        calls: the functions to call, in order.
        text: optional text the model says alongside the calls.
        id_prefix: ids are ``{id_prefix}_{n}``.
        start: the first ``n``.
    """
    parts: list[types.Part] = [types.Part(text=text)] if text else []
    for offset, (name, args) in enumerate(calls):
        parts.append(
            types.Part(
                function_call=types.FunctionCall(
                    id=f"{id_prefix}_{start + offset}", name=name, args=dict(args)
                )
            )
        )
    return response_from_parts(parts)


def response_content(response: types.GenerateContentResponse) -> types.Content | None:
    """The first candidate's content, with its role set to ``model``; None when empty."""
    if not response.candidates:
        return None
    content = response.candidates[0].content
    if content is None or not content.parts:
        return None
    if content.role != "model":
        content = content.model_copy(update={"role": "model"})
    return content


def function_calls_of(content: types.Content | None) -> list[types.FunctionCall]:
    """The function calls in ``content``, in order."""
    if content is None or not content.parts:
        return []
    return [part.function_call for part in content.parts if part.function_call is not None]


def text_of(content: types.Content | None) -> str:
    """The text parts of ``content`` joined, thoughts excluded."""
    if content is None or not content.parts:
        return ""
    return "".join(part.text for part in content.parts if part.text and not part.thought).strip()
