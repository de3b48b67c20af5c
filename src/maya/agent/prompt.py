"""The system instruction and what exactly the model is sent before any conversation.

``PromptView`` is the system instruction plus the tool declarations as the SDK
serialises them (``types.Tool`` dumped by alias, as on the wire), with a hash so a trace
can name the prompt it ran with, and a size so growth is visible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from google.genai import types

__all__ = ["PromptView", "load_system_instruction", "prompt_view", "serialize_tools"]


def load_system_instruction(path: Path | None = None) -> str:
    """Maya's system instruction, from ``path`` or the packaged ``prompts/maya.md``.

    Raises:
        OSError: the file cannot be read.
    """
    if path is not None:
        return path.read_text(encoding="utf-8").strip()
    resource = resources.files("maya") / "prompts" / "maya.md"
    return resource.read_text(encoding="utf-8").strip()


def serialize_tools(tools: Sequence[types.Tool]) -> list[dict[str, Any]]:
    """The declarations as the request carries them (camelCase, no empty fields)."""
    return [tool.model_dump(mode="json", exclude_none=True, by_alias=True) for tool in tools]


@dataclass(frozen=True, slots=True)
class PromptView:
    """What the model is sent before the conversation.

    Attributes:
        system_instruction: the system instruction text.
        tools: the serialised declarations.
        sha256: hash of both, as canonical JSON.
        chars: characters of the instruction plus the declarations' JSON.
        estimated_tokens: ``chars / 4``, rounded up.
    """

    system_instruction: str
    tools: list[dict[str, Any]]
    sha256: str
    chars: int
    estimated_tokens: int

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of ``sha256``."""
        return self.sha256[:12]

    def as_json(self) -> dict[str, Any]:
        """Everything, as a JSON-ready dict."""
        return {
            "system_instruction": self.system_instruction,
            "tools": self.tools,
            "sha256": self.sha256,
            "chars": self.chars,
            "estimated_tokens": self.estimated_tokens,
        }


def prompt_view(system_instruction: str, tools: Sequence[types.Tool]) -> PromptView:
    """Build the ``PromptView`` of a system instruction and its tools."""
    serialized = serialize_tools(tools)
    tools_json = json.dumps(serialized, sort_keys=True, separators=(",", ":"))
    canonical = json.dumps(
        {"system_instruction": system_instruction, "tools": serialized},
        sort_keys=True,
        separators=(",", ":"),
    )
    chars = len(system_instruction) + len(tools_json)
    return PromptView(
        system_instruction=system_instruction,
        tools=serialized,
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        chars=chars,
        estimated_tokens=-(-chars // 4),
    )
