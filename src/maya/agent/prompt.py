"""The system instruction and what exactly the model is sent before any conversation
(``PromptView``: instruction and declarations as on the wire, hashed and sized).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from google.genai import types

from maya.bar import load_menu

__all__ = [
    "PromptView",
    "current_prompt",
    "format_prompt",
    "load_system_instruction",
    "print_prompt",
    "prompt_view",
    "serialize_tools",
]


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


# -- ``maya prompt``: exactly what the model is sent, for people or as JSON ------------


def current_prompt() -> PromptView:
    """The packaged system instruction and Maya's tool declarations."""
    # Here, not at the top: chatting imports this module and never needs a second toolset.
    from maya.state.manager import TabManager
    from maya.state.memory import MemoryTabStore
    from maya.tools import Toolset

    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=None)
    return prompt_view(load_system_instruction(), [toolset.genai_tool()])


def format_prompt(view: PromptView) -> str:
    """The prompt for people: instruction, declarations, hash and size."""
    tools_json = json.dumps(view.tools, indent=2, ensure_ascii=False)
    rule = "-" * 72
    return "\n".join(
        [
            f"System instruction ({len(view.system_instruction)} chars)",
            rule,
            view.system_instruction,
            rule,
            "Tool declarations (as serialised by google-genai)",
            rule,
            tools_json,
            rule,
            f"sha256:           {view.sha256}",
            f"characters:       {view.chars}",
            f"estimated tokens: {view.estimated_tokens} (characters / 4)",
        ]
    )


def print_prompt(*, as_json: bool, out: Callable[[str], None] = print) -> int:
    """Print the current prompt; returns the exit code."""
    view = current_prompt()
    out(
        json.dumps(view.as_json(), indent=2, ensure_ascii=False) if as_json else format_prompt(view)
    )
    return 0
