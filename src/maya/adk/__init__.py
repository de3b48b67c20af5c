"""Maya for Google's Agent Development Kit (extra ``[adk]``): a toolset, an offline model.

``maya.adk.eval_set`` (the eval-set export) needs no ADK; the rest is imported on first
use, so ``import maya.adk.eval_set`` works without ``google-adk`` installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maya._lazy import lazy_attributes

if TYPE_CHECKING:
    # What type checkers see: the real names, so nothing from maya.adk is ``Any``.
    from maya.adk.gateway import LazyStripeGateway, open_chat_client
    from maya.adk.model import MayaModelLlm
    from maya.adk.toolset import (
        LONG_RUNNING_TOOLS,
        TAB_STATE_KEY,
        MayaToolset,
        tab_id,
    )

__all__ = [
    "LONG_RUNNING_TOOLS",
    "TAB_STATE_KEY",
    "LazyStripeGateway",
    "MayaModelLlm",
    "MayaToolset",
    "open_chat_client",
    "tab_id",
]

_HOMES = {
    "LONG_RUNNING_TOOLS": "maya.adk.toolset",
    "TAB_STATE_KEY": "maya.adk.toolset",
    "MayaToolset": "maya.adk.toolset",
    "tab_id": "maya.adk.toolset",
    "MayaModelLlm": "maya.adk.model",
    "LazyStripeGateway": "maya.adk.gateway",
    "open_chat_client": "maya.adk.gateway",
}


__getattr__ = lazy_attributes(__name__, _HOMES)
