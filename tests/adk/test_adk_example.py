"""The example ADK agent (``examples/maya_bar``), loaded as ``adk web`` loads it and run by
ADK's ``InMemoryRunner``: payments go to the sandbox as a real subprocess, paid at its
checkout page over HTTP."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import anyio
import pytest

pytest.importorskip(
    "google.adk", reason="google-adk is not installed (pip install -e '.[test,adk]'; CI: .venv-adk)"
)

from adk_helpers import USER, responses, say, texts
from google.adk.agents import LlmAgent
from google.adk.cli.utils.agent_loader import AgentLoader
from google.adk.runners import InMemoryRunner

from maya.adk import (
    TAB_STATE_KEY,
    LazyStripeGateway,
    MayaModelLlm,
    MayaToolset,
    open_chat_client,
    tab_id,
)
from maya.agent.models import OfflineModel
from maya.agent.models.base import calls_response, text_response
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.sandbox import CARD_SUCCESS, apay_url
from maya.state import MemoryTabStore, TabManager
from maya.testing import ScriptedModel
from maya.tools import Toolset

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def offline_world(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No keys, tabs in memory, the sandbox (no mcp.json here) with its own database."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setenv("MAYA_STATE_URL", "memory://")
    monkeypatch.setenv("MAYA_SANDBOX_DB", str(tmp_path / "sandbox.sqlite3"))
    for name in [n for n in os.environ if n.startswith("MAYA_SANDBOX_FAULTS")] + [
        "MAYA_MCP_CONFIG",
        "MAYA_ADK_CONFIRM_PAYMENT",
    ]:
        monkeypatch.delenv(name, raising=False)


def _load_example() -> LlmAgent:
    agent = AgentLoader(str(EXAMPLES)).load_agent("maya_bar")
    assert isinstance(agent, LlmAgent)
    return agent


async def test_adk_loads_the_example_with_the_offline_model_and_mayas_tools(
    offline_world: None,
) -> None:
    agent = _load_example()
    assert isinstance(agent.model, MayaModelLlm)
    assert isinstance(agent.model.inner, OfflineModel)
    [toolset] = agent.tools
    assert isinstance(toolset, MayaToolset)
    assert isinstance(toolset.toolset.context.payments, LazyStripeGateway)
    names = [tool.name for tool in await toolset.get_tools()]
    assert names == list(toolset.toolset.tool_names)


async def test_the_example_orders_tips_pays_and_settles_through_the_runner(
    offline_world: None,
) -> None:
    from maya_bar.agent import build_agent

    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Manhattan", "quantity": 2})], start=1),
            text_response("Two Manhattans."),
            calls_response([("set_tip", {"percent": 20})], start=2),
            text_response("A 20% tip, thank you."),
            calls_response([("create_stripe_payment", {})], start=3),
            text_response("Here is your link."),
            calls_response([("check_payment_status", {})], start=4),
            text_response("It went through."),
        ]
    )
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    toolset = Toolset(
        manager=manager,
        payments=LazyStripeGateway(partial(open_chat_client, sandbox=True)),
        messages=bar_messages(),
    )
    runner = InMemoryRunner(
        agent=build_agent(model=MayaModelLlm(model), toolset=toolset), app_name="maya_bar"
    )
    with anyio.fail_after(90):
        try:
            session = await runner.session_service.create_session(app_name="maya_bar", user_id=USER)
            await say(runner, session.id, "Two Manhattans")
            await say(runner, session.id, "20% tip")
            asked = await say(runner, session.id, "Check please")
            link = responses(asked, "create_stripe_payment")[0]["result"]
            paid = await apay_url(link["url"], CARD_SUCCESS)
            checked = await say(runner, session.id, "Did it go through?")
            stored = await runner.session_service.get_session(
                app_name="maya_bar", user_id=USER, session_id=session.id
            )
        finally:
            await runner.close()
    model.assert_complete()
    assert paid.paid
    assert link["amount_cents"] == 2880 and link["is_simulated"] is False
    assert link["url"].startswith("http://127.0.0.1:")
    assert "It went through." in texts(checked)
    assert responses(checked, "check_payment_status")[0]["result"]["applied"] is True
    tab = tab_id("maya_bar", USER, session.id)
    ours = await manager.get(tab)
    assert (ours.tab_cents, ours.payment_status.value) == (0, "completed")
    assert stored is not None
    snapshot = stored.state[TAB_STATE_KEY]
    assert (snapshot["session_id"], snapshot["version"]) == (tab, ours.version)
    assert snapshot["payment"]["status"] == "completed"
