"""The ordering tools as the model sees them: menu, orders, balance, tip and bill."""

from __future__ import annotations

import pytest

from maya.state import TabManager
from maya.tools import Toolset

pytestmark = pytest.mark.anyio


async def test_the_menu_lists_drinks_with_prices_and_modifiers(toolset: Toolset) -> None:
    result = (await toolset.call("get_menu", {}, "s1"))["result"]
    cocktails = {d["item"]: d for d in result["categories"]["Cocktails"]}
    assert cocktails["Martini"] == {
        "item": "Martini",
        "price": "$13.00",
        "price_cents": 1300,
        "liquor_choice": True,
        "modifiers": {
            "liquor": ["vodka", "tequila", "gin", "whiskey", "rum", "brandy"],
            "method": ["shaken", "stirred"],
            "serve": ["neat", "on the rocks"],
            "vermouth": ["dry", "perfect"],
            "brine": ["dirty"],
        },
    }
    assert "gin" in result["liquors"] and "on the rocks" in result["styles"]
    assert result["categories"]["Non-alcoholic"][0]["modifiers"] == {}
    assert set(result["one_of"]) == {"liquor", "method", "serve", "vermouth"}


async def test_an_order_moves_its_price_from_balance_to_tab(toolset: Toolset) -> None:
    result = await toolset.call(
        "order_drink", {"name": " martinis ", "quantity": 2, "modifiers": ["Gin", "dry"]}, "s1"
    )
    assert result == {
        "status": "ok",
        "result": {
            "ordered": {
                "item": "Martini",
                "quantity": 2,
                "modifiers": ["gin", "dry"],
                "unit_price": "$13.00",
                "unit_price_cents": 1300,
                "line": "$26.00",
                "line_cents": 2600,
            },
            "balance": "$974.00",
            "balance_cents": 97400,
            "tab": "$26.00",
            "tab_cents": 2600,
        },
    }


async def test_a_whole_number_sent_as_a_float_is_accepted(toolset: Toolset) -> None:
    result = await toolset.call("order_drink", {"name": "IPA", "quantity": 3.0}, "s1")
    assert result["result"]["ordered"]["quantity"] == 3


async def test_an_order_the_balance_cannot_cover_names_drink_price_and_balance(
    toolset: Toolset, manager: TabManager
) -> None:
    for _ in range(5):
        assert (await toolset.call("order_drink", {"name": "Brandy", "quantity": 20}, "s1"))[
            "status"
        ] == "ok"
    before = (await manager.get("s1")).model_dump_json()
    result = await toolset.call("order_drink", {"name": "Brandy", "quantity": 20}, "s1")
    assert result["error"] == "INSUFFICIENT_FUNDS" and result["retryable"] is False
    assert "Brandy" in result["message"] and "$180.00" in result["message"]
    assert "$100.00" in result["message"]  # what is left
    assert (await manager.get("s1")).model_dump_json() == before


async def test_an_unknown_modifier_lists_the_ones_we_offer(toolset: Toolset) -> None:
    result = await toolset.call("order_drink", {"name": "Martini", "modifiers": ["frozen"]}, "s1")
    assert result["error"] == "INVALID_MODIFIER" and "gin" in result["allowed"]


async def test_balance_shows_balance_tab_tip_and_total(toolset: Toolset) -> None:
    await toolset.call("order_drink", {"name": "Daiquiri"}, "s1")
    await toolset.call("set_tip", {"percent": 15}, "s1")
    result = (await toolset.call("get_balance", {}, "s1"))["result"]
    assert result == {
        "balance": "$990.00",
        "balance_cents": 99000,
        "tab": "$10.00",
        "tab_cents": 1000,
        "tip_percent": 15,
        "tip": "$1.50",
        "tip_cents": 150,
        "total_due": "$11.50",
        "total_due_cents": 1150,
    }


async def test_choosing_the_same_tip_again_removes_it(toolset: Toolset) -> None:
    await toolset.call("order_drink", {"name": "Negroni"}, "s1")
    first = (await toolset.call("set_tip", {"percent": 20}, "s1"))["result"]
    assert first["removed"] is False and first["tip"] == "$2.20"
    again = (await toolset.call("set_tip", {"percent": 20}, "s1"))["result"]
    assert again["removed"] is True and again["tip_percent"] is None
    assert again["total_due"] == "$11.00"


async def test_remove_tip_removes_it(toolset: Toolset) -> None:
    await toolset.call("order_drink", {"name": "Negroni"}, "s1")
    await toolset.call("set_tip", {"percent": 10}, "s1")
    result = (await toolset.call("remove_tip", {}, "s1"))["result"]
    assert result["tip_percent"] is None and result["total_due_cents"] == 1100


async def test_the_bill_itemises_and_shows_no_payment_yet(toolset: Toolset) -> None:
    await toolset.call("order_drink", {"name": "Tap Beer", "quantity": 2}, "s1")
    await toolset.call("order_drink", {"name": "Water"}, "s1")
    bill = (await toolset.call("get_bill", {}, "s1"))["result"]
    assert [(i["item"], i["quantity"], i["line"]) for i in bill["items"]] == [
        ("Tap Beer", 2, "$10.00"),
        ("Water", 1, "$1.00"),
    ]
    assert bill["total_due"] == "$11.00"
    assert bill["payment"] == {"status": "none"}


async def test_sessions_do_not_share_tabs(toolset: Toolset) -> None:
    await toolset.call("order_drink", {"name": "Gin"}, "alice")
    bob = (await toolset.call("get_balance", {}, "bob"))["result"]
    assert bob["tab_cents"] == 0 and bob["balance_cents"] == 100000
