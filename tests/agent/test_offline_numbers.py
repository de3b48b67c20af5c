"""The offline model refuses numbers that are no count of drinks or tip, never misreads them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maya.agent import Agent
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


@pytest.mark.anyio
@pytest.mark.parametrize(
    "message", ["0.5 martinis", "-5 martinis", "minus two beers", "a -20% tip", "1e3 beers"]
)
async def test_maya_refuses_and_nothing_changes(
    make_agent: Callable[..., Agent], manager: TabManager, message: str
) -> None:
    result = await make_agent(OfflineModel()).respond(SESSION, message)
    state = await manager.get(SESSION)
    assert (state.tab_cents, state.tip_percent, state.version) == (0, None, 0)
    assert result.tool_calls == ()
    assert "whole drinks" in result.reply or "10, 15 or 20" in result.reply
