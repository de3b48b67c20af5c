"""Maya's bar, the reference app, built on the plugin's public API: the menu with
modifiers, the bar's tab settings and voice, its tools and the state walkthrough.

Names load on first use, so the state layer's default (the bar's menu) loads no tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maya._lazy import lazy_attributes

if TYPE_CHECKING:
    from maya.bar.menu import MenuError, load_menu
    from maya.bar.tools import DEFAULT_TOOLS, RESULT_MODELS, GetMenuArgs, OrderDrinkArgs

__all__ = [
    "DEFAULT_TOOLS",
    "RESULT_MODELS",
    "GetMenuArgs",
    "MenuError",
    "OrderDrinkArgs",
    "load_menu",
]

_HOMES = {
    **dict.fromkeys(
        ("Menu", "MenuError", "MenuItem", "ModifierGroup", "bar_messages", "load_menu"),
        "maya.bar.menu",
    ),
    **dict.fromkeys(("BAR_SETTINGS", "MAX_QUANTITY"), "maya.bar.settings"),
    **dict.fromkeys(
        ("DEFAULT_TOOLS", "RESULT_MODELS", "GetMenuArgs", "OrderDrinkArgs"), "maya.bar.tools"
    ),
}


__getattr__ = lazy_attributes(__name__, _HOMES)
