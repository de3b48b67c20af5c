"""The offline model refuses numbers that are no count of drinks or tip, never misreads them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maya.agent import Agent
from maya.agent.models import DrinkOrder
from maya.agent.models.offline import OfflineModel
from maya.state import TabManager

from .conftest import SESSION


@pytest.mark.parametrize(
    ("message", "drink"),
    [
        ("0.5 martinis", "Martini"),
        ("-5 martinis", "Martini"),
        ("minus two beers", "Tap Beer"),
        ("1e3 beers", "Tap Beer"),
        ("negative 3 gins please", "Gin"),
        ("could I get .5 of a negroni", "Negroni"),
        # No number at all: never one drink.
        ("hundreds of beers", "Tap Beer"),
        ("dozens of martinis please", "Martini"),
    ],
)
def test_a_number_that_is_no_count_of_drinks_orders_nothing(message: str, drink: str) -> None:
    intent = OfflineModel().intent_of(message)
    assert intent.orders == ()
    assert intent.unclear_quantity == (drink,)


@pytest.mark.parametrize("message", ["a -20% tip", "add a minus 15 percent tip", "12.5% tip"])
def test_a_negative_or_fractional_tip_is_asked_again(message: str) -> None:
    intent = OfflineModel().intent_of(message)
    assert intent.tip_percent is None
    assert intent.tip_without_percent


@pytest.mark.parametrize(
    ("message", "orders", "tip"),
    [
        ("two beers", [("Tap Beer", 2)], None),
        ("3 martinis and a 20% tip", [("Martini", 3)], 20),
        ("twenty-one vodkas", [("Vodka", 21)], None),
        ("a long island", [("Long Island", 1)], None),
    ],
)
def test_plain_counts_are_still_read(
    message: str, orders: list[tuple[str, int]], tip: int | None
) -> None:
    intent = OfflineModel().intent_of(message)
    assert [(o.name, o.quantity) for o in intent.orders] == orders
    assert intent.tip_percent == tip


@pytest.mark.parametrize(
    ("message", "quantity"),
    [
        ("1000 beers", 1000),
        ("12345 beers", 12345),
        ("1000000 beers", 1_000_000),
        ("1,000 beers", 1000),
        ("two hundred beers", 200),
        ("a hundred beers", 100),
        ("one hundred and one beers", 101),
        ("two thousand five hundred beers", 2500),
        ("a million beers", 1_000_000),
    ],
)
def test_a_count_of_any_size_is_read_whole(message: str, quantity: int) -> None:
    # Never a smaller number: "1000" was read as no count (one drink), "two hundred" as 2.
    intent = OfflineModel().intent_of(message)
    assert intent.orders == (DrinkOrder("Tap Beer", quantity),)


@pytest.mark.parametrize(
    ("message", "orders"),
    [
        ("2,500 beers and a martini", [("Tap Beer", 2500), ("Martini", 1)]),
        ("a beer and two hundred martinis", [("Tap Beer", 1), ("Martini", 200)]),
        ("a dozen beers", [("Tap Beer", 12)]),
        ("2 beers,3 martinis", [("Tap Beer", 2), ("Martini", 3)]),
        ("I'll have 1000 mojitos", [("mojitos", 1000)]),
        ("I'll have a hundred and one mojitos", [("mojitos", 101)]),
        ("I'll have a couple of mojitos", [("mojitos", 2)]),
        # A digit sign that is no decimal digit is no count (it was an int() crash).
        ("I'll have \u00b2 mojitos", [("\u00b2 mojitos", 1)]),
    ],
)
def test_counts_beside_other_orders_and_unknown_drinks(
    message: str, orders: list[tuple[str, int]]
) -> None:
    intent = OfflineModel().intent_of(message)
    assert [(o.name, o.quantity) for o in intent.orders] == orders


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("999 beers", "999"),
        ("1000 beers", "1,000"),
        ("12345 beers", "12,345"),
        ("1000000 beers", "1,000,000"),
        ("two hundred beers", "200"),
    ],
)
async def test_a_count_past_the_limit_is_refused_whatever_its_length(
    make_agent: Callable[..., Agent], manager: TabManager, message: str, said: str
) -> None:
    result = await make_agent(OfflineModel()).respond(SESSION, message)
    state = await manager.get(SESSION)
    assert (state.tab_cents, state.version) == (0, 0) and result.tool_calls == ()
    assert result.reply.startswith(f"{said} x Tap Beer is more than I can pour at once.")
    assert "1 to 20" in result.reply


@pytest.mark.anyio
@pytest.mark.parametrize(
    "message",
    [
        "0.5 martinis",
        "-5 martinis",
        "minus two beers",
        "a -20% tip",
        "1e3 beers",
        "hundreds of beers",
    ],
)
async def test_maya_refuses_and_nothing_changes(
    make_agent: Callable[..., Agent], manager: TabManager, message: str
) -> None:
    result = await make_agent(OfflineModel()).respond(SESSION, message)
    state = await manager.get(SESSION)
    assert (state.tab_cents, state.tip_percent, state.version) == (0, None, 0)
    assert result.tool_calls == ()
    assert "whole drinks" in result.reply or "10, 15 or 20" in result.reply
