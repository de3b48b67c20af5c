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
    "answer_part",
    "calls_response",
    "content_of",
    "function_calls_of",
    "response_content",
    "response_from_parts",
    "text_of",
    "text_part",
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


# Empty instances copied with their fields (``model_copy(update=...)``): a copy costs a
# quarter of a validated construction, and a fifth of ``model_construct`` (which walks
# every field's default). Never changed themselves: a copy has its own fields.
_PART = types.Part()
_CONTENT = types.Content()
_CALL = types.FunctionCall()
_ANSWER = types.FunctionResponse()
_CANDIDATE = types.Candidate()
_RESPONSE = types.GenerateContentResponse()


def response_from_parts(parts: Sequence[types.Part]) -> types.GenerateContentResponse:
    """Wrap model parts in a response shaped like Gemini's (one candidate, role ``model``).

    Built without google-genai's validation, from fields already of their types: the
    parts themselves are checked to be parts.
    """
    candidate = _CANDIDATE.model_copy(
        update={
            "content": content_of("model", parts),
            "finish_reason": types.FinishReason.STOP,
            "index": 0,
        }
    )
    return _RESPONSE.model_copy(update={"candidates": [candidate]})


def content_of(role: str, parts: Sequence[types.Part]) -> types.Content:
    """A content of ``role`` holding ``parts`` (built as ``response_from_parts``).

    Raises:
        TypeError: when a part is not a ``types.Part``.
    """
    for part in parts:
        if not isinstance(part, types.Part):
            raise TypeError(f"a content holds types.Part, not {type(part).__name__}")
    return _CONTENT.model_copy(update={"role": role, "parts": list(parts)})


def text_part(text: str) -> types.Part:
    """A part holding only ``text`` (built as ``response_from_parts``).

    Raises:
        TypeError: when ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"a text part holds a str, not {type(text).__name__}")
    return _PART.model_copy(update={"text": text})


def answer_part(call_id: str | None, name: str, response: Mapping[str, Any]) -> types.Part:
    """The answer to one function call: its id and name, and ``response`` (a copy)."""
    answer = _ANSWER.model_copy(update={"id": call_id, "name": name, "response": dict(response)})
    return _PART.model_copy(update={"function_response": answer})


def text_response(text: str) -> types.GenerateContentResponse:
    """A response holding only ``text``."""
    return response_from_parts([text_part(text)])


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
    parts: list[types.Part] = [text_part(text)] if text else []
    for offset, (name, args) in enumerate(calls):
        if not isinstance(name, str):
            raise TypeError(f"a function call's name is a str, not {type(name).__name__}")
        call = _CALL.model_copy(
            update={"id": f"{id_prefix}_{start + offset}", "name": name, "args": dict(args)}
        )
        parts.append(_PART.model_copy(update={"function_call": call}))
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
