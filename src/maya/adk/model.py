"""An ADK model backed by one of Maya's own models (offline or scripted), for runs without a key."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.genai import types
from pydantic import Field

from maya.agent.models.base import Model

__all__ = ["MayaModelLlm"]


def _instruction_text(instruction: Any) -> str:
    if instruction is None:
        return ""
    if isinstance(instruction, str):
        return instruction
    if isinstance(instruction, types.Content):
        return "\n".join(part.text or "" for part in instruction.parts or [])
    if isinstance(instruction, types.Part):
        return instruction.text or ""
    if isinstance(instruction, list):
        return "\n".join(_instruction_text(item) for item in instruction)
    return str(instruction)


class MayaModelLlm(BaseLlm):
    """ADK's ``BaseLlm`` over a Maya ``Model`` (``OfflineModel``, ``ScriptedModel``...).

    Attributes:
        model: the name ADK shows (default: the wrapped model's name).
        inner: the wrapped model.
    """

    inner: Any = Field(exclude=True)

    def __init__(self, inner: Model, **data: Any) -> None:
        """Wrap ``inner``."""
        data.setdefault("model", inner.name)
        super().__init__(inner=inner, **data)

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        """One response from the wrapped model (streaming is not split into chunks)."""
        config = llm_request.config
        tools = [tool for tool in (config.tools or []) if isinstance(tool, types.Tool)]
        model: Model = self.inner
        response = await model.generate(
            system_instruction=_instruction_text(config.system_instruction),
            contents=list(llm_request.contents),
            tools=tools,
        )
        yield LlmResponse.create(response)
