"""The ordering tools: catalog, orders, balance, tip and bill.

Each handler takes the shared context, the session and its validated arguments, and
returns the ``result`` part of an ok response. A refusal is raised (``StateError`` from
the tab, ``ToolError`` from here) and becomes an error response in the dispatcher.
"""

from __future__ import annotations

from typing import Any

from maya.state.errors import StoreError
from maya.state.models import OrderedItem, TabState
from maya.tools.arguments import (
    CancelLastOrderArgs,
    GetBalanceArgs,
    GetBillArgs,
    GetCatalogArgs,
    OrderItemArgs,
    RemoveTipArgs,
    SetTipArgs,
)
from maya.tools.context import ToolContext
from maya.tools.results import ToolError
from maya.tools.views import amount, balance_view, bill_view, catalog_view, item_view

__all__ = [
    "cancel_last_order",
    "get_balance",
    "get_bill",
    "get_catalog",
    "not_added",
    "order_item",
    "remove_tip",
    "set_tip",
]


def not_added(ctx: ToolContext, name: str, quantity: int, exc: StoreError) -> ToolError:
    """The refusal for one order line the store could not take: other lines of the same
    request may be on the tab already, so it names this one (the item was checked against
    the catalog before the store was asked)."""
    item = ctx.manager.catalog.find(name).name
    return ToolError(
        exc.code,
        f"{quantity} x {item} was not added: the store could not be used",
        item=item,
        quantity=quantity,
        added=False,
    )


async def order_item(ctx: ToolContext, session_id: str, args: OrderItemArgs) -> dict[str, Any]:
    """Put a catalog item on the tab, priced from the catalog.

    Raises:
        StateError: ``UNKNOWN_ITEM``, ``INVALID_QUANTITY`` or (with a prepaid balance)
            ``INSUFFICIENT_FUNDS``; nothing changes.
        ToolError: ``STORE_BUSY`` or ``STORE_UNAVAILABLE`` naming the item that was not
            added (``item``, ``quantity``, ``added: false``); nothing changes.
    """
    try:
        state = await ctx.manager.order(session_id, args.name, args.quantity)
    except StoreError as exc:
        raise not_added(ctx, args.name, args.quantity, exc) from exc
    cur = state.currency
    prepaid = ctx.manager.settings.prepaid
    return {
        "ordered": _line(state.items[-1], cur),
        **(amount("balance", state.balance_cents, cur) if prepaid else {}),
        **amount("tab", state.tab_cents, cur),
    }


def _line(item: OrderedItem, currency: str) -> dict[str, Any]:
    """A catalog line: an item takes no modifiers, so none are shown."""
    view = item_view(item, currency)
    del view["modifiers"]
    return view


async def cancel_last_order(
    ctx: ToolContext, session_id: str, args: CancelLastOrderArgs
) -> dict[str, Any]:
    """Take the last ordered line off the tab; its price goes back to the balance.

    Raises:
        StateError: ``NOTHING_TO_CANCEL`` or ``PAYMENT_PENDING``; nothing changes.
    """
    cancelled = await ctx.manager.cancel_last_order(session_id)
    state = cancelled.state
    cur = state.currency
    if not ctx.manager.settings.prepaid:
        return {
            "cancelled": item_view(cancelled.item, cur),
            **amount("tab", state.tab_cents, cur),
            **amount("total_due", state.total_due_cents, cur),
        }
    return {
        "cancelled": item_view(cancelled.item, cur),
        **amount("refund", cancelled.item.line_cents, cur),
        **amount("balance", state.balance_cents, cur),
        **amount("tab", state.tab_cents, cur),
        **amount("total_due", state.total_due_cents, cur),
    }


async def get_balance(ctx: ToolContext, session_id: str, args: GetBalanceArgs) -> dict[str, Any]:
    """Balance, tab, tip and total due.

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    return balance_view(await ctx.manager.get(session_id), prepaid=ctx.manager.settings.prepaid)


async def set_tip(ctx: ToolContext, session_id: str, args: SetTipArgs) -> dict[str, Any]:
    """Choose a tip; choosing the current one again removes it.

    Raises:
        StateError: ``INVALID_TIP_PERCENTAGE``; nothing changes.
    """
    state = await ctx.manager.set_tip(session_id, args.percent)
    removed = state.tip_percent is None
    return {"removed": removed, **_tip_view(state, state.tip_percent, state.tip_cents)}


async def remove_tip(ctx: ToolContext, session_id: str, args: RemoveTipArgs) -> dict[str, Any]:
    """Remove the tip, if any.

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    state = await ctx.manager.remove_tip(session_id)
    return {"removed": True, **_tip_view(state, None, 0)}


def _tip_view(state: TabState, percent: int | None, tip_cents: int) -> dict[str, Any]:
    cur, tab_cents = state.currency, state.tab_cents
    return {
        "tip_percent": percent,
        **amount("tip", tip_cents, cur),
        **amount("tab", tab_cents, cur),
        **amount("total_due", tab_cents + tip_cents, cur),
    }


async def get_bill(ctx: ToolContext, session_id: str, args: GetBillArgs) -> dict[str, Any]:
    """The itemised bill, totals and the payment's status and link.

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    return bill_view(await ctx.manager.get(session_id), prepaid=ctx.manager.settings.prepaid)


async def get_catalog(ctx: ToolContext, session_id: str, args: GetCatalogArgs) -> dict[str, Any]:
    """The catalog: every item with its price (same for everyone)."""
    return catalog_view(ctx.manager.catalog)
