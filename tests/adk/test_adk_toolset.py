"""``MayaToolset`` in an ADK ``LlmAgent``, run by ADK's ``InMemoryRunner`` with a scripted model."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip(
    "google.adk", reason="google-adk is not installed (pip install -e '.[test,adk]'; CI: .venv-adk)"
)

from adk_helpers import USER, responses, say
from google.adk.agents import LlmAgent
from google.adk.runners import InMemoryRunner
from google.genai import types

from maya.adk import LONG_RUNNING_TOOLS, TAB_STATE_KEY, MayaModelLlm, MayaToolset, tab_id
from maya.agent.models.base import calls_response, text_response
from maya.cli import main
from maya.testing import ScriptedModel
from surface_bar import Bar, open_bar

pytestmark = pytest.mark.anyio

APP = "maya_bar"


def _runner(bar: Bar, model: ScriptedModel, **options: Any) -> InMemoryRunner:
    agent = LlmAgent(
        name="maya",
        model=MayaModelLlm(model),
        instruction="You are Maya.",
        tools=[MayaToolset(bar.toolset, **options)],
    )
    return InMemoryRunner(agent=agent, app_name=APP)


async def _session(runner: InMemoryRunner) -> str:
    session = await runner.session_service.create_session(app_name=APP, user_id=USER)
    return session.id


async def _adk_state(runner: InMemoryRunner, session_id: str) -> dict[str, Any]:
    session = await runner.session_service.get_session(
        app_name=APP, user_id=USER, session_id=session_id
    )
    assert session is not None
    return dict(session.state)


async def test_the_adk_tool_list_is_what_maya_prompt_declares(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["prompt", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["tools"]
    async with open_bar() as bar:
        tools = await MayaToolset(bar.toolset).get_tools()
        declared = [t._get_declaration() for t in tools]  # type: ignore[attr-defined]
        model = ScriptedModel([text_response("Hello!")])
        runner = _runner(bar, model)
        await say(runner, await _session(runner), "hi")
        await runner.close()
    dumped = [d.model_dump(mode="json", exclude_none=True) for d in declared]
    [sent] = model.requests[0].tools
    assert dumped == [
        d.model_dump(mode="json", exclude_none=True) for d in bar.toolset.declarations
    ]
    assert dumped == [
        d.model_dump(mode="json", exclude_none=True) for d in sent.function_declarations or []
    ]
    # `maya prompt --json` prints the declarations as the SDK sends them (camelCase).
    printed = [d for tool in shown for d in tool["functionDeclarations"]]
    assert printed == [
        d.model_dump(mode="json", by_alias=True, exclude_none=True) for d in declared
    ]
    assert {t.name for t in tools if t.is_long_running} == set(LONG_RUNNING_TOOLS)


async def test_order_tip_pay_and_paid_keep_the_tab_in_our_store_and_a_snapshot_in_adk() -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Old Fashioned", "quantity": 2})], start=1),
            text_response("Two Old Fashioneds."),
            calls_response([("set_tip", {"percent": 10})], start=2),
            text_response("Tip added."),
            calls_response([("create_stripe_payment", {})], start=3),
            text_response("Here is your link."),
            calls_response([("check_payment_status", {})], start=4),
            text_response("Paid, thank you!"),
        ]
    )
    async with open_bar() as bar:
        runner = _runner(bar, model)
        session_id = await _session(runner)
        await say(runner, session_id, "Two old fashioneds")
        await say(runner, session_id, "10% tip")
        asked = await say(runner, session_id, "Check please")
        link = responses(asked, "create_stripe_payment")[0]["result"]
        assert bar.pay(link["url"]).paid
        checked = await say(runner, session_id, "Did it go through?")
        ours = await bar.manager.get(tab_id(APP, USER, session_id))
        theirs = (await _adk_state(runner, session_id))[TAB_STATE_KEY]
        other = await _session(runner)
        untouched = await bar.manager.get(tab_id(APP, USER, other))
        await runner.close()
    model.assert_complete()
    assert link["amount_cents"] == 2640
    [call_event] = [e for e in asked if e.get_function_calls()]
    assert call_event.long_running_tool_ids == {"call_3"}
    assert responses(checked, "check_payment_status")[0]["result"]["payment_status"] == "succeeded"
    assert (ours.tab_cents, ours.balance_cents, ours.payment_status.value) == (
        0,
        97600,
        "completed",
    )
    assert theirs["session_id"] == tab_id(APP, USER, session_id)
    assert theirs["version"] == ours.version
    assert theirs["payment"]["status"] == "completed"
    assert theirs["balance_cents"] == 97600
    assert untouched.version == 0 and untouched.tab_cents == 0


async def test_bad_arguments_come_back_as_the_toolsets_errors_and_change_nothing() -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Martini", "quantity": 99})]),
            text_response("That is too many."),
        ]
    )
    async with open_bar() as bar:
        runner = _runner(bar, model)
        session_id = await _session(runner)
        events = await say(runner, session_id, "99 martinis")
        state = await bar.manager.get(tab_id(APP, USER, session_id))
        adk_state = await _adk_state(runner, session_id)
        await runner.close()
    [error] = responses(events, "order_drink")
    assert error["status"] == "error" and error["error"] == "INVALID_ARGUMENTS"
    assert error["fields"][0]["field"] == "quantity"
    assert state.version == 0
    assert adk_state[TAB_STATE_KEY]["version"] == 0


def _confirmation(events: list[Any], confirmed: bool) -> types.Part:
    [request] = [
        call
        for event in events
        for call in event.get_function_calls()
        if call.name == "adk_request_confirmation"
    ]
    return types.Part(
        function_response=types.FunctionResponse(
            id=request.id, name=request.name, response={"confirmed": confirmed}
        )
    )


@pytest.mark.parametrize("confirmed", [True, False])
async def test_a_payment_link_waits_for_adk_tool_confirmation(confirmed: bool) -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Soda"})], start=1),
            text_response("A soda."),
            calls_response([("create_stripe_payment", {})], start=2),
            text_response("Here is your link." if confirmed else "No link, then."),
        ]
    )
    async with open_bar() as bar:
        runner = _runner(bar, model, confirm_payment=True)
        session_id = await _session(runner)
        await say(runner, session_id, "A soda")
        asked = await say(runner, session_id, "Check please")
        waiting = await bar.manager.get(tab_id(APP, USER, session_id))
        answered = await say(runner, session_id, _confirmation(asked, confirmed))
        after = await bar.manager.get(tab_id(APP, USER, session_id))
        await runner.close()
    model.assert_complete()
    assert responses(asked, "create_stripe_payment") == [
        {"error": "This tool call requires confirmation, please approve or reject."}
    ]
    assert waiting.payments == ()
    [result] = responses(answered, "create_stripe_payment")
    if confirmed:
        assert result["status"] == "ok" and result["result"]["amount_cents"] == 300
        assert after.current_payment is not None and after.current_payment.url is not None
    else:
        assert result == {"error": "This tool call is rejected."}
        assert after.payments == ()


async def test_a_name_prefix_and_a_filter_still_dispatch_to_our_tools() -> None:
    model = ScriptedModel(
        [
            calls_response([("bar_order_drink", {"name": "Lemonade"})]),
            text_response("A lemonade."),
        ]
    )
    async with open_bar() as bar:
        toolset = MayaToolset(
            bar.toolset, tool_name_prefix="bar", tool_filter=["order_drink", "get_bill"]
        )
        names = [t.name for t in await toolset.get_tools_with_prefix()]
        agent = LlmAgent(name="maya", model=MayaModelLlm(model), tools=[toolset])
        runner = InMemoryRunner(agent=agent, app_name=APP)
        session_id = await _session(runner)
        events = await say(runner, session_id, "A lemonade")
        state = await bar.manager.get(tab_id(APP, USER, session_id))
        await runner.close()
    assert names == ["bar_order_drink", "bar_get_bill"]
    [declared] = model.requests[0].tools
    assert [d.name for d in declared.function_declarations or []] == names
    assert responses(events, "bar_order_drink")[0]["status"] == "ok"
    assert state.tab_cents == 200


async def test_two_users_with_the_same_session_id_have_two_tabs() -> None:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Tequila"})]),
            text_response("Tequila."),
            calls_response([("get_bill", {})]),
            text_response("Nothing yet."),
        ]
    )
    async with open_bar() as bar:
        runner = _runner(bar, model)
        for user in ("ana", "ben"):
            await runner.session_service.create_session(app_name=APP, user_id=user, session_id="s1")
        ordered = runner.run_async(
            user_id="ana",
            session_id="s1",
            new_message=types.Content(role="user", parts=[types.Part(text="Tequila")]),
        )
        [event async for event in ordered]
        asked = runner.run_async(
            user_id="ben",
            session_id="s1",
            new_message=types.Content(role="user", parts=[types.Part(text="My bill?")]),
        )
        events = [event async for event in asked]
        ana = await bar.manager.get(tab_id(APP, "ana", "s1"))
        await runner.close()
    assert ana.tab_cents == 800
    assert responses(events, "get_bill")[0]["result"]["tab_cents"] == 0
    assert tab_id(APP, "ana", "s1") != tab_id(APP, "ben", "s1")
    assert tab_id(APP, "ana", "x" * 300).startswith("adk-")
    assert len(tab_id(APP, "ana", "x" * 300)) <= 128
