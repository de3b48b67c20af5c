"""The offline model on the phrasings that used to go wrong (issue 11 #9), each through the
real agent, toolset and tab: the calls it makes, in order, and what Maya says."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from maya.agent import Agent, OfflineModel, TurnResult
from maya.agent.models import parse_message
from maya.agent.models.offline_reply import compose_reply
from maya.bar import load_menu
from maya.state import TabManager

from .conftest import SESSION

pytestmark = pytest.mark.anyio

MENU = load_menu()


def _calls(result: TurnResult) -> list[tuple[str, dict[str, object]]]:
    return [(call.name, call.args) for call in result.tool_calls]


@pytest.fixture
def say(make_agent: Callable[..., Agent]) -> Callable[[str], object]:
    agent = make_agent(OfflineModel())

    async def turn(message: str) -> TurnResult:
        return await agent.respond(SESSION, message)

    return turn


@pytest.mark.parametrize(
    ("words", "number"),
    [
        ("twenty-one vodkas", 21),
        ("twenty one vodkas", 21),
        ("ninety-nine vodkas", 99),
        ("forty two vodkas", 42),
        ("thirteen vodkas", 13),
        ("seventy vodkas", 70),
    ],
)
def test_number_words_up_to_ninety_nine(words: str, number: int) -> None:
    (order,) = parse_message(words, MENU).orders
    assert (order.name, order.quantity) == ("Vodka", number)


async def test_twenty_one_vodkas_are_refused_as_too_many_not_ordered_as_one(
    say: Callable[[str], object], manager: TabManager
) -> None:
    result = await say("twenty-one vodkas please")  # type: ignore[misc]
    assert result.tool_calls == ()  # the tool takes 1-20: told, not sent
    assert result.reply.startswith("21 x Vodka is more than I can pour at once.")
    assert "1 to 20" in result.reply
    assert (await manager.get(SESSION)).tab_cents == 0


async def test_order_tip_and_pay_in_one_sentence_in_order(
    say: Callable[[str], object], manager: TabManager
) -> None:
    result = await say("two beers, put a 15% tip on and let me pay")  # type: ignore[misc]
    assert [name for name, _ in _calls(result)] == [
        "order_drink",
        "set_tip",
        "create_stripe_payment",
    ]
    assert _calls(result)[0][1] == {"name": "Tap Beer", "quantity": 2, "modifiers": []}
    state = await manager.get(SESSION)
    assert state.tab_cents == 1000 and state.tip_percent == 15
    assert "2 x Tap Beer" in result.reply and "$1.50" in result.reply


async def test_too_many_in_a_round_is_told_beside_what_was_poured(
    say: Callable[[str], object], manager: TabManager
) -> None:
    result = await say("a water and thirty vodkas")  # type: ignore[misc]
    assert [args["name"] for _, args in _calls(result)] == ["Water"]
    assert "1 x Water" in result.reply and "30 x Vodka is more than I can pour" in result.reply
    assert (await manager.get(SESSION)).tab_cents == 100


async def test_pay_first_then_order_keeps_the_customers_order(
    say: Callable[[str], object],
) -> None:
    result = await say("add a 10% tip and a water")  # type: ignore[misc]
    assert [name for name, _ in _calls(result)] == ["set_tip", "order_drink"]


async def test_make_it_a_double_orders_the_last_drink_again_at_the_menu_price(
    say: Callable[[str], object], manager: TabManager
) -> None:
    await say("a whiskey neat")  # type: ignore[misc]
    result = await say("make it a double")  # type: ignore[misc]
    assert _calls(result) == [
        ("order_drink", {"name": "Whiskey", "quantity": 1, "modifiers": ["neat"]})
    ]
    assert result.reply.startswith("Making it a double:")
    assert (await manager.get(SESSION)).tab_cents == 1600


async def test_make_it_a_double_with_nothing_ordered_orders_nothing(
    say: Callable[[str], object],
) -> None:
    result = await say("make it a double")  # type: ignore[misc]
    assert result.tool_calls == () and "haven't ordered" in result.reply


async def test_cancel_that_takes_back_the_last_drink(
    say: Callable[[str], object], manager: TabManager
) -> None:
    await say("a martini and an IPA")  # type: ignore[misc]
    result = await say("cancel that")  # type: ignore[misc]
    assert _calls(result) == [("cancel_last_order", {})]
    assert "took 1 x IPA off your tab" in result.reply and "$6.00 back" in result.reply
    state = await manager.get(SESSION)
    assert state.tab_cents == 1300 and state.balance_cents == 98_700


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ("cancel that", None),
        ("scratch that", None),
        ("cancel my order", None),
        ("actually, cancel the last one please", None),
        ("take it off my tab", None),
        ("never mind", None),
        ("drop the ipa", "IPA"),
        ("cancel the two martinis please", "Martini"),
        ("cancel the mojito please", "mojito"),
    ],
)
def test_ways_to_take_an_order_back(message: str, named: str | None) -> None:
    intent = parse_message(message, MENU)
    assert intent.cancel and intent.cancel_name == named


def test_cancel_the_tip_is_still_about_the_tip() -> None:
    intent = parse_message("cancel the tip", MENU)
    assert intent.remove_tip and not intent.cancel


async def test_another_round_repeats_the_last_round(say: Callable[[str], object]) -> None:
    await say("a negroni")  # type: ignore[misc]
    result = await say("another round")  # type: ignore[misc]
    assert [args["name"] for _, args in _calls(result)] == ["Negroni"]


async def test_cancel_names_only_the_last_drink(
    say: Callable[[str], object], manager: TabManager
) -> None:
    await say("a martini and an IPA")  # type: ignore[misc]
    refused = await say("cancel the martini")  # type: ignore[misc]
    assert refused.tool_calls == () and "the IPA" in refused.reply
    taken = await say("cancel the ipa")  # type: ignore[misc]
    assert _calls(taken) == [("cancel_last_order", {})]
    assert (await manager.get(SESSION)).tab_cents == 1300


async def test_how_much_have_i_spent(say: Callable[[str], object]) -> None:
    await say("two martinis")  # type: ignore[misc]
    result = await say("how much have I spent?")  # type: ignore[misc]
    assert _calls(result) == [("get_bill", {})]
    assert "come to $26.00" in result.reply and "$974.00" in result.reply


async def test_what_did_i_order(say: Callable[[str], object]) -> None:
    await say("two martinis and a water")  # type: ignore[misc]
    result = await say("what did I order?")  # type: ignore[misc]
    assert _calls(result) == [("get_bill", {})]
    assert "2 x Martini (vodka): $26.00" in result.reply and "1 x Water: $1.00" in result.reply


async def test_same_again_repeats_the_last_round(
    say: Callable[[str], object], manager: TabManager
) -> None:
    await say("two IPAs and a water")  # type: ignore[misc]
    result = await say("same again please")  # type: ignore[misc]
    assert [args["name"] for _, args in _calls(result)] == ["IPA", "Water"]
    assert result.reply.startswith("Same again")
    assert (await manager.get(SESSION)).tab_cents == 2 * 1300


@pytest.mark.parametrize(
    "question",
    ["has the payment cleared?", "did it clear?", "has it cleared yet", "is the payment cleared"],
)
def test_cleared_is_a_status_question(question: str) -> None:
    assert parse_message(question, MENU).status


async def test_cash_is_answered_with_card_through_the_link(
    say: Callable[[str], object],
) -> None:
    await say("a water")  # type: ignore[misc]
    result = await say("I want to pay with cash")  # type: ignore[misc]
    assert _calls(result) == [("create_stripe_payment", {})]
    assert result.reply.startswith("We only take card, through the payment link")


@pytest.mark.parametrize(
    ("message", "mixed"),
    [
        ("a gin and tonic", "gin and tonic"),
        ("two rum and cokes please", "rum and coke"),
        ("a vodka soda", "vodka soda"),
        ("I'll have a whiskey & ginger ale", "whiskey and ginger ale"),
    ],
)
async def test_mixed_drinks_are_named_as_not_on_the_menu(
    say: Callable[[str], object], manager: TabManager, message: str, mixed: str
) -> None:
    result = await say(message)  # type: ignore[misc]
    assert [args["name"] for _, args in _calls(result)] == [mixed]
    assert result.tool_calls[0].response["error"] == "UNKNOWN_ITEM"
    assert mixed in result.reply and "aren't on our menu" in result.reply
    assert "We don't pour" not in result.reply  # said once, not twice
    assert (await manager.get(SESSION)).tab_cents == 0


def test_a_gin_and_a_soda_are_two_drinks() -> None:
    names = [o.name for o in parse_message("a gin and a soda", MENU).orders]
    assert names == ["Gin", "Soda"]


def test_a_simulated_payment_is_never_said_to_have_gone_through() -> None:
    result = {
        "payment_id": "plink_1",
        "payment_status": "succeeded",
        "applied": True,
        "amount_paid": "$13.00",
        "tab": "$0.00",
        "is_simulated": True,
        "message": "Your payment of $13.00 went through. Thank you!",
    }
    said = compose_reply([("check_payment_status", {"status": "ok", "result": result})])
    assert "went through" not in said
    assert "simulated test payment" in said and "no real money moved" in said


def test_a_real_payment_still_says_it_went_through() -> None:
    result = {
        "payment_status": "succeeded",
        "tab": "$0.00",
        "is_simulated": False,
        "message": "Your payment of $13.00 went through. Thank you!",
    }
    said = compose_reply([("check_payment_status", {"status": "ok", "result": result})])
    assert said.startswith("Your payment of $13.00 went through.")
