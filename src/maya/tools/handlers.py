"""The ordering tools: menu, orders, balance, tip and bill.

Each handler takes the shared context, the session and its validated arguments, and
returns the ``result`` part of an ok response. A refusal is raised (``StateError`` from
the tab, ``ToolError`` from here) and becomes an error response in the dispatcher.
"""

from __future__ import annotations

from typing import Any

from maya.state.errors import StoreError
from maya.tools.arguments import (
    CancelLastOrderArgs,
    GetBalanceArgs,
    GetBillArgs,
    GetMenuArgs,
    OrderDrinkArgs,
    RemoveTipArgs,
    SetTipArgs,
)
from maya.tools.context import ToolContext
from maya.tools.results import ToolError
from maya.tools.views import amount, balance_view, bill_view, item_view, menu_view

__all__ = [
    "cancel_last_order",
    "get_balance",
    "get_bill",
    "get_menu",
    "order_drink",
    "remove_tip",
    "set_tip",
]


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
        # Other drinks of the same request may be on the tab already: say which one is
        # not (the item was checked against the menu before the store was asked).
        item = ctx.manager.menu.find(args.name).name
        raise ToolError(
            exc.code,
            f"{args.quantity} x {item} was not added: the store could not be used",
            item=item,
            quantity=args.quantity,
            added=False,
        ) from exc
    return {
        "ordered": item_view(state.items[-1]),
        **amount("balance", state.balance_cents),
        **amount("tab", state.tab_cents),
    }


async def cancel_last_order(
    ctx: ToolContext, session_id: str, args: CancelLastOrderArgs
) -> dict[str, Any]:
    """Take the last ordered line off the tab; its price goes back to the balance.

    Raises:
        StateError: ``NOTHING_TO_CANCEL`` or ``PAYMENT_PENDING``; nothing changes.
    """
    cancelled = await ctx.manager.cancel_last_order(session_id)
    state = cancelled.state
    return {
        "cancelled": item_view(cancelled.item),
        **amount("refund", cancelled.item.line_cents),
        **amount("balance", state.balance_cents),
        **amount("tab", state.tab_cents),
        **amount("total_due", state.total_due_cents),
    }


async def get_balance(ctx: ToolContext, session_id: str, args: GetBalanceArgs) -> dict[str, Any]:
    """Balance, tab, tip and total due.

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    return balance_view(await ctx.manager.get(session_id))


async def set_tip(ctx: ToolContext, session_id: str, args: SetTipArgs) -> dict[str, Any]:
    """Choose a tip; choosing the current one again removes it.

    Raises:
        StateError: ``INVALID_TIP_PERCENTAGE``; nothing changes.
    """
    state = await ctx.manager.set_tip(session_id, args.percent)
    removed = state.tip_percent is None
    return {"removed": removed, **_tip_view(state.tip_percent, state.tip_cents, state.tab_cents)}


async def remove_tip(ctx: ToolContext, session_id: str, args: RemoveTipArgs) -> dict[str, Any]:
    """Remove the tip, if any.

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    state = await ctx.manager.remove_tip(session_id)
    return {"removed": True, **_tip_view(None, 0, state.tab_cents)}


def _tip_view(percent: int | None, tip_cents: int, tab_cents: int) -> dict[str, Any]:
    return {
        "tip_percent": percent,
        **amount("tip", tip_cents),
        **amount("tab", tab_cents),
        **amount("total_due", tab_cents + tip_cents),
    }


async def get_bill(ctx: ToolContext, session_id: str, args: GetBillArgs) -> dict[str, Any]:
    """The itemised bill, totals and the payment's status and link.

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    return bill_view(await ctx.manager.get(session_id))


async def get_menu(ctx: ToolContext, session_id: str, args: GetMenuArgs) -> dict[str, Any]:
    """The menu with prices, and for each drink the modifiers it takes (same for everyone).

    Each drink lists its ``modifiers`` by group; ``one_of`` names the groups that allow a
    single choice (neat or on the rocks, shaken or stirred).
    """
    menu = ctx.manager.menu
    view = menu_view(menu)
    for entries in view["categories"].values():
        for entry in entries:
            item = menu.find(entry["item"])
            entry["modifiers"] = {
                name: list(menu.groups[name].options) for name in item.modifier_groups
            }
    view["one_of"] = [name for name, group in menu.groups.items() if group.exclusive]
    return view
