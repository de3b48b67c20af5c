"""Maya: Stripe payments over MCP for Gemini function-calling agents.

What an integrator needs, in one import (loaded on first use, so ``import maya`` is light)::

    from maya import CATALOG_TOOLS, Catalog, TabManager, Toolset, open_store, open_stripe_client
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maya._lazy import lazy_attributes

if TYPE_CHECKING:
    from maya.messages import load_messages
    from maya.payments.factory import open_stripe_client
    from maya.state.catalog import Catalog, LineItem, TabSettings
    from maya.state.manager import TabManager
    from maya.state.open import open_store
    from maya.tools.catalog import CATALOG_TOOLS, PAYMENT_TOOLS
    from maya.tools.toolset import Toolset

__all__ = [
    "CATALOG_TOOLS",
    "PAYMENT_TOOLS",
    "Catalog",
    "LineItem",
    "TabManager",
    "TabSettings",
    "Toolset",
    "__version__",
    "load_messages",
    "open_store",
    "open_stripe_client",
]

__version__ = "0.1.0"

_HOMES = {
    "CATALOG_TOOLS": "maya.tools.catalog",
    "PAYMENT_TOOLS": "maya.tools.catalog",
    "Catalog": "maya.state.catalog",
    "LineItem": "maya.state.catalog",
    "TabSettings": "maya.state.catalog",
    "TabManager": "maya.state.manager",
    "Toolset": "maya.tools.toolset",
    "load_messages": "maya.messages",
    "open_store": "maya.state.open",
    "open_stripe_client": "maya.payments.factory",
}


__getattr__ = lazy_attributes(__name__, _HOMES)
