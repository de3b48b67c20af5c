"""Bean There as a Google ADK ``LlmAgent`` (extra ``[adk]``): ``MayaToolset`` gives it the tools.

Each ADK session gets its own bill. Serve it with ``adk web examples`` (it finds
``root_agent``), or run it in code with ``InMemoryRunner(agent=build_agent())``. Payments
go to the Stripe of ``mcp.json``, or the local sandbox when there is none.
"""

from __future__ import annotations

from functools import partial

from google.adk.agents import LlmAgent
from google.adk.models import BaseLlm

from maya import Toolset
from maya.adk import LazyStripeGateway, MayaToolset, open_chat_client

from .shop import INSTRUCTION, MODEL, shop_toolset


def build_agent(*, model: str | BaseLlm = MODEL, toolset: Toolset | None = None) -> LlmAgent:
    """The shop's agent.

    Args:
        model: a Gemini model name or an ADK model object.
        toolset: default: the shop's tools, paying through a ``LazyStripeGateway``.
    """
    if toolset is None:
        toolset = shop_toolset(LazyStripeGateway(partial(open_chat_client, sandbox=True)))
    return LlmAgent(
        name="bean_there",
        description="Takes coffee orders and payment by Stripe link.",
        model=model,
        instruction=INSTRUCTION,
        tools=[MayaToolset(toolset)],
    )


root_agent = build_agent()
