"""A two-drink order whose second drink meets a failing store is reported exactly.

The first drink is committed; the second is not. The tool's answer names the drink that
was not added and why, and Maya's reply says what was added, what was not, and why
(never "nothing has changed" beside "Coming right up").
"""

from __future__ import annotations

from typing import Any

import pytest

from failing_store import FailingStore
from maya.agent import Agent, OfflineModel
from maya.agent.models import calls_response
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.codes import ErrorCode
from maya.state import TabManager
from maya.testing import FakeClock, ScriptedModel
from maya.tools import Toolset

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("code", "why"),
    [
        (ErrorCode.STORE_UNAVAILABLE, "I can't get to the tabs right now"),
        (ErrorCode.STORE_BUSY, "it was busy with another order"),
    ],
)
async def test_the_second_drink_failing_is_named_beside_the_first(
    code: ErrorCode, why: str
) -> None:
    store = FailingStore(code=code, fail_from_write=2)
    manager = TabManager(store, catalog=load_menu())
    toolset = Toolset(manager=manager, payments=None, messages=bar_messages())
    agent = Agent(model=OfflineModel(), toolset=toolset, manager=manager)

    result = await agent.respond("partial", "a water and a martini")

    store.failing = False
    state = await manager.get("partial")
    assert [(i.name, i.quantity) for i in state.items] == [("Water", 1)]
    failed = [call for call in result.calls_named("order_drink") if not call.ok]
    assert len(failed) == 1
    response = failed[0].response
    assert response["error"] == code.value
    assert (response["item"], response["quantity"], response["added"]) == ("Martini", 1, False)
    assert "test database" not in str(response)  # the store's own text never travels

    reply = result.reply
    assert "1 x Water: $1.00" in reply  # added, with its price
    assert f"1 x Martini is not on your tab: {why}" in reply  # not added, and why
    assert "Your tab is $1.00" in reply  # the tab as committed
    assert "nothing has changed" not in reply
    assert reply.index("1 x Water") < reply.index("1 x Martini")


async def test_when_every_drink_fails_each_is_named() -> None:
    store = FailingStore(fail_from_write=1)
    manager = TabManager(store, catalog=load_menu())
    agent = Agent(
        model=OfflineModel(),
        toolset=Toolset(manager=manager, payments=None, messages=bar_messages()),
        manager=manager,
    )

    reply = (await agent.respond("none", "a water and a martini")).reply

    assert "1 x Water is not on your tab" in reply
    assert "1 x Martini is not on your tab" in reply
    assert "Coming right up" not in reply
    store.failing = False
    assert (await manager.get("none")).items == ()


async def test_a_tool_that_used_up_the_turns_time_is_the_one_that_speaks() -> None:
    """A store waiting out its lock timeout takes the turn's whole budget, so the model is
    never asked to answer: the customer hears the tool's own words (not added, and why),
    never "my model was too slow"."""
    clock = FakeClock()

    class SlowThenBusy(FailingStore):
        async def transact(self, *args: Any, **kwargs: Any) -> Any:
            clock.advance(31.0)  # SQLite's busy_timeout, waited out
            return await super().transact(*args, **kwargs)

    store = SlowThenBusy(code=ErrorCode.STORE_BUSY, fail_from_write=1)
    manager = TabManager(store, catalog=load_menu())
    toolset = Toolset(manager=manager, payments=None, messages=bar_messages())
    model = ScriptedModel([calls_response([("order_drink", {"name": "Martini"})])])
    agent = Agent(
        model=model,
        toolset=toolset,
        manager=manager,
        clock=clock,
        sleep=clock.sleep,
        turn_budget_s=30.0,
    )

    result = await agent.respond("slow", "a martini")

    assert result.outcome == "model_error" and result.model_calls == 2
    assert "1 x Martini is not on your tab: it was busy with another order" in result.reply
    assert "too slow" not in result.reply
    model.assert_complete()
