"""``maya prompt``: exactly what the model is sent, for people or as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

from maya.agent.prompt import PromptView, load_system_instruction, prompt_view
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.tools import Toolset

__all__ = ["current_prompt", "format_prompt", "print_prompt"]


def current_prompt() -> PromptView:
    """The packaged system instruction and Maya's tool declarations."""
    toolset = Toolset(manager=TabManager(MemoryTabStore()), payments=None)
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
