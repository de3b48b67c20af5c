"""The offline model reads customers' messages: drinks, quantities, modifiers, intents."""

from __future__ import annotations

import pytest

from maya.agent.models import DrinkOrder, parse_message
from maya.bar import load_menu

MENU = load_menu()


@pytest.mark.parametrize(
    ("message", "orders"),
    [
        ("two martinis, dirty", [DrinkOrder("Martini", 2, ("dirty",))]),
        ("a beer and a water", [DrinkOrder("Tap Beer", 1), DrinkOrder("Water", 1)]),
        ("Twenty Brandies please", [DrinkOrder("Brandy", 20)]),
        ("can I get 3 IPAs", [DrinkOrder("IPA", 3)]),
        ("a gin martini on the rocks", [DrinkOrder("Martini", 1, ("gin", "on the rocks"))]),
        ("a martini with tequila", [DrinkOrder("Martini", 1, ("tequila",))]),
        (
            "two old fashioneds, stirred, and a whiskey neat with a chaser",
            [
                DrinkOrder("Old Fashioned", 2, ("stirred",)),
                DrinkOrder("Whiskey", 1, ("neat", "with a chaser")),
            ],
        ),
        ("2 long island iced teas", [DrinkOrder("Long Island", 2)]),
        ("I'll have a mojito", [DrinkOrder("mojito", 1)]),
    ],
)
def test_orders_are_read_with_quantities_plurals_and_modifiers(
    message: str, orders: list[DrinkOrder]
) -> None:
    assert list(parse_message(message, MENU).orders) == orders


@pytest.mark.parametrize(
    ("message", "field", "value"),
    [
        ("what do I owe?", "bill", True),
        ("bill please", "bill", True),
        ("what's my balance", "balance", True),
        ("add 15%", "tip_percent", 15),
        ("tip 20 percent", "tip_percent", 20),
        ("leave a fifteen percent tip", "tip_percent", 15),
        ("remove the tip", "remove_tip", True),
        ("no tip, thanks", "remove_tip", True),
        ("I'd like to pay", "pay", True),
        ("check please", "pay", True),
        ("did it go through?", "status", True),
        ("I've paid", "status", True),
        ("can I see the menu", "menu", True),
        ("hello!", "greeting", True),
        ("add a tip", "tip_without_percent", True),
    ],
)
def test_intents_are_recognised(message: str, field: str, value: object) -> None:
    assert getattr(parse_message(message, MENU), field) == value


def test_asking_to_pay_orders_nothing() -> None:
    intent = parse_message("I'd like to pay for the martinis", MENU)
    assert intent.pay and not intent.orders


def test_a_price_question_reads_the_menu_instead_of_ordering() -> None:
    intent = parse_message("how much is a negroni?", MENU)
    assert intent.price_of == ("Negroni",) and not intent.orders


def test_an_order_and_a_tip_in_one_message_are_both_read() -> None:
    intent = parse_message("a beer and add a 20% tip", MENU)
    assert intent.orders == (DrinkOrder("Tap Beer", 1),) and intent.tip_percent == 20
