"""Maya's bar, the reference app, built on the plugin's public API: the menu with
modifiers, the bar's tab settings and voice, its tools and the state walkthrough."""

from maya.bar.menu import Menu, MenuError, MenuItem, ModifierGroup, bar_messages, load_menu
from maya.bar.settings import BAR_SETTINGS, MAX_QUANTITY
from maya.bar.tools import DEFAULT_TOOLS, RESULT_MODELS, GetMenuArgs, OrderDrinkArgs

__all__ = [
    "BAR_SETTINGS",
    "DEFAULT_TOOLS",
    "MAX_QUANTITY",
    "RESULT_MODELS",
    "GetMenuArgs",
    "Menu",
    "MenuError",
    "MenuItem",
    "ModifierGroup",
    "OrderDrinkArgs",
    "bar_messages",
    "load_menu",
]
