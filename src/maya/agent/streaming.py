"""Streaming a turn: what happens while Maya answers (``TurnEvent``), as it happens.

A ``StreamingModel`` (Gemini) hands over its text chunk by chunk; any other model's answer
is passed on whole, as one piece. The ``TurnResult`` stays the authority.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from google.genai import types

from maya.agent.models.base import Contents, OnText, Reply, Tools

__all__ = [
    "StreamingModel",
    "TextDelta",
    "ToolFinished",
    "ToolStarted",
    "TurnEvent",
    "TurnListener",
    "merge_chunks",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More of Maya's words (the model's text, never thoughts)."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """A tool call is about to run, with the arguments the model gave."""

    name: str
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A tool call answered: ``response`` is its ``ok``/``error`` dict."""

    name: str
    args: dict[str, Any]
    response: dict[str, Any]


TurnEvent = TextDelta | ToolStarted | ToolFinished
TurnListener = Callable[[TurnEvent], Awaitable[None]]


@runtime_checkable
class StreamingModel(Protocol):
    """A model that can hand over its text while it is still answering."""

    async def generate_streaming(
        self, *, system_instruction: str, contents: Contents, tools: Tools, on_text: OnText
    ) -> Reply:
        """Answer as ``Model.generate`` does, awaiting ``on_text`` with each text chunk.

        Returns the whole answer, the chunks merged (see ``merge_chunks``).
        """
        ...


def _mergeable(previous: types.Part, part: types.Part) -> bool:
    if previous.text is None or part.text is None:
        return False
    if bool(previous.thought) != bool(part.thought):
        return False
    # A signature closes a part: what follows it is a new one.
    return previous.thought_signature is None


def merge_chunks(
    chunks: Sequence[types.GenerateContentResponse],
) -> types.GenerateContentResponse:
    """One response from a stream's chunks, as ``generate_content`` would have answered.

    Text parts that follow each other are joined (a thought signature on an empty last
    chunk stays on the part it closes); function calls and other parts are kept in order;
    the finish reason, usage and prompt feedback come from the last chunk that has them.
    """
    parts: list[types.Part] = []
    finish: types.FinishReason | None = None
    usage: types.GenerateContentResponseUsageMetadata | None = None
    feedback: types.GenerateContentResponsePromptFeedback | None = None
    for chunk in chunks:
        usage = chunk.usage_metadata or usage
        feedback = chunk.prompt_feedback or feedback
        if not chunk.candidates:
            continue
        candidate = chunk.candidates[0]
        finish = candidate.finish_reason or finish
        for part in (candidate.content.parts if candidate.content else None) or []:
            if parts and _mergeable(parts[-1], part):
                previous = parts[-1]
                parts[-1] = previous.model_copy(
                    update={
                        "text": (previous.text or "") + (part.text or ""),
                        "thought_signature": part.thought_signature,
                    }
                )
            else:
                parts.append(part)
    candidates = (
        [
            types.Candidate(
                content=types.Content(role="model", parts=parts),
                finish_reason=finish,
                index=0,
            )
        ]
        if parts or finish is not None
        else []
    )
    return types.GenerateContentResponse(
        candidates=candidates, usage_metadata=usage, prompt_feedback=feedback
    )
