"""The bar's own tools, on the plugin's: ``get_menu`` (drinks with their modifiers) and
``order_drink``, and ``DEFAULT_TOOLS``, the bar's whole set in the order the model sees it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from maya.bar.menu import Menu
from maya.bar.settings import MAX_QUANTITY
from maya.state.errors import StoreError
from maya.state.manager import MAX_MODIFIERS
from maya.tools.arguments import NoArgs, Text, ToolArgs, WholeNumber
from maya.tools.catalog import TOOLS, ToolSpec
from maya.tools.context import ToolContext
from maya.tools.handlers import not_added
from maya.tools.result_models import OrderItemResult, ToolResultModel
from maya.tools.views import amount, item_view

__all__ = [
    "DEFAULT_TOOLS",
    "RESULT_MODELS",
    "GetMenuArgs",
    "MenuEntry",
    "MenuResult",
    "OrderDrinkArgs",
    "get_menu",
    "menu_view",
    "order_drink",
]

Modifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class OrderDrinkArgs(ToolArgs):
    """Order drinks for the customer; the price comes off their balance onto the tab."""

    name: Text = Field(description="Drink name as on the menu, e.g. 'Martini'.")
    quantity: WholeNumber = Field(
        default=1, ge=1, le=MAX_QUANTITY, description=f"How many, 1-{MAX_QUANTITY}. Default 1."
    )
    modifiers: list[Modifier] = Field(
        default_factory=list,
        max_length=MAX_MODIFIERS,
        description="Menu modifiers, e.g. ['gin', 'dry'].",
    )


class GetMenuArgs(NoArgs):
    """The menu: drinks with prices, and modifiers."""


class MenuEntry(ToolResultModel):
    """A drink on the menu, its price and the modifiers it takes, by group."""

    item: str
    price: str
    price_cents: int
    liquor_choice: bool | None = None
    modifiers: dict[str, list[str]]


class MenuResult(ToolResultModel):
    """``get_menu``: drinks by category, the liquors and styles, and the exclusive groups."""

    categories: dict[str, list[MenuEntry]]
    liquors: list[str]
    default_liquor: str | None
    styles: list[str]
    modifiers_are_free: bool
    one_of: list[str]


def menu_view(menu: Menu) -> dict[str, Any]:
    """Drinks by category with prices, and the modifiers a customer may ask for."""
    categories = {
        category: [
            {
                "item": item.name,
                **amount("price", item.price_cents, menu.currency),
                **({"liquor_choice": True} if item.takes_liquor else {}),
            }
            for item in items
        ]
        for category, items in menu.by_category().items()
    }
    return {
        "categories": categories,
        "liquors": list(menu.liquors),
        "default_liquor": menu.default_liquor,
        "styles": list(menu.styles),
        "modifiers_are_free": True,
    }


async def order_drink(ctx: ToolContext, session_id: str, args: OrderDrinkArgs) -> dict[str, Any]:
    """Put drinks on the tab, paid from the balance.

    Raises:
        StateError: ``UNKNOWN_ITEM``, ``INVALID_MODIFIER``, ``INVALID_QUANTITY`` or
            ``INSUFFICIENT_FUNDS``; nothing changes.
        ToolError: ``STORE_BUSY`` or ``STORE_UNAVAILABLE`` naming the drink that was not
            added (``item``, ``quantity``, ``added: false``); nothing changes.
    """
    try:
        state = await ctx.manager.order(session_id, args.name, args.quantity, args.modifiers)
    except StoreError as exc:
        raise not_added(ctx, args.name, args.quantity, exc) from exc
    return {
        "ordered": item_view(state.items[-1], state.currency),
        **amount("balance", state.balance_cents, state.currency),
        **amount("tab", state.tab_cents, state.currency),
    }


async def get_menu(ctx: ToolContext, session_id: str, args: GetMenuArgs) -> dict[str, Any]:
    """The menu with prices, and for each drink the modifiers it takes (same for everyone).

    Each drink lists its ``modifiers`` by group; ``one_of`` names the groups that allow a
    single choice (neat or on the rocks, shaken or stirred).
    """
    menu = ctx.manager.catalog
    if not isinstance(menu, Menu):
        raise TypeError("get_menu sells the bar's menu; this manager's catalog is another")
    view = menu_view(menu)
    for entries in view["categories"].values():
        for entry in entries:
            item = menu.find(entry["item"])
            entry["modifiers"] = {
                name: list(menu.groups[name].options) for name in item.modifier_groups
            }
    view["one_of"] = [name for name, group in menu.groups.items() if group.exclusive]
    return view


DEFAULT_TOOLS: tuple[ToolSpec[Any], ...] = (
    ToolSpec("get_menu", GetMenuArgs, get_menu, MenuResult, read_only=True),
    ToolSpec("order_drink", OrderDrinkArgs, order_drink, OrderItemResult),
    *(
        TOOLS[name]
        for name in (
            "cancel_last_order",
            "get_balance",
            "set_tip",
            "remove_tip",
            "get_bill",
            "create_stripe_payment",
            "check_payment_status",
        )
    ),
)
"""The bar's tools (menu with modifiers, prepaid balance, tips), in the order the model is
shown them."""

RESULT_MODELS: Mapping[str, type[BaseModel]] = {
    spec.name: spec.result for spec in DEFAULT_TOOLS if spec.result is not None
}
"""The result model of each of the bar's tools, by name."""
