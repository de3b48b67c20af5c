"""Maya as a Google ADK agent: ``adk web examples`` (or ``adk run examples/maya_bar``).

Install with ``pip install -e '.[adk]'``. Gemini answers when ``GOOGLE_API_KEY`` or
``GEMINI_API_KEY`` is set (``MAYA_GEMINI_MODEL`` picks the model); without a key Maya's
offline model answers, so the whole evening runs with no key and no network. Tabs live in
Maya's own store (``$MAYA_STATE_URL``, default SQLite), keyed by the ADK session, with a
read-only copy in the session state as ``maya:tab``. Payment links go to the Stripe MCP
server of ``mcp.json``, or to the offline sandbox, whose checkout page takes the 4242 card.
Set ``MAYA_ADK_CONFIRM_PAYMENT=1`` to approve each payment link in the ADK UI first.
"""

from __future__ import annotations

import os
from functools import partial

from google.adk.agents import LlmAgent
from google.adk.agents.readonly_context import ReadonlyContext
from google.adk.models.base_llm import BaseLlm

from maya.adk import LazyStripeGateway, MayaModelLlm, MayaToolset, open_chat_client
from maya.agent import OfflineModel, load_system_instruction
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.state import TabManager, open_store
from maya.tools import Toolset

__all__ = ["build_agent", "default_model", "root_agent"]

_KEYS = ("GOOGLE_API_KEY", "GEMINI_API_KEY")


def default_model() -> str | BaseLlm:
    """Gemini (by name, for ADK) with a key; Maya's offline model without one."""
    if any(os.environ.get(key) for key in _KEYS):
        return os.environ.get("MAYA_GEMINI_MODEL", "gemini-2.5-flash")
    return MayaModelLlm(OfflineModel())


def build_agent(
    *,
    model: str | BaseLlm | None = None,
    toolset: Toolset | None = None,
    confirm_payment: bool | None = None,
) -> LlmAgent:
    """Maya as an ``LlmAgent``.

    Args:
        model: default: ``default_model()``.
        toolset: default: Maya's tools over ``open_store()`` and a ``LazyStripeGateway``.
        confirm_payment: default: ``MAYA_ADK_CONFIRM_PAYMENT=1``.
    """
    if toolset is None:
        toolset = Toolset(
            manager=TabManager(open_store(), catalog=load_menu()),
            payments=LazyStripeGateway(partial(open_chat_client, sandbox=True)),
            messages=bar_messages(),
        )
    if confirm_payment is None:
        confirm_payment = os.environ.get("MAYA_ADK_CONFIRM_PAYMENT") == "1"
    instruction = load_system_instruction()

    def maya_instruction(context: ReadonlyContext) -> str:
        # A provider, not a string: ADK would read {braces} in a string as state keys.
        return instruction

    return LlmAgent(
        name="maya",
        description="Maya, the bartender: drinks on a tab, tips, and payment by Stripe link.",
        model=model if model is not None else default_model(),
        instruction=maya_instruction,
        tools=[MayaToolset(toolset, confirm_payment=confirm_payment)],
    )


root_agent = build_agent()
