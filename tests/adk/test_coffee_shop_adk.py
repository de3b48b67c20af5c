"""The coffee shop's ADK recipe (``examples/coffee_shop/adk_agent.py``): ADK's own Gemini
model, pointed at the local Gemini stand-in, from order to a paid sandbox link."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip(
    "google.adk", reason="google-adk is not installed (pip install -e '.[test,adk]'; CI: .venv-adk)"
)

from adk_helpers import USER, say, texts
from google.adk.models import Gemini
from google.adk.runners import InMemoryRunner

from fake_gemini import FakeGemini, fake_gemini, function_call_body, text_body
from maya.payments import StripeMCPClient
from maya.sandbox import CARD_SUCCESS, SandboxStore, pay_link
from shop_support import BANNED

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examples.coffee_shop.adk_agent import build_agent  # noqa: E402
from examples.coffee_shop.shop import shop_toolset  # noqa: E402

pytestmark = pytest.mark.anyio


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    with fake_gemini() as server:
        monkeypatch.setenv("GOOGLE_API_KEY", "test-key")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.base_url)
        yield server


def function_responses(server: FakeGemini) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for request in server.requests:
        for part in request.body["contents"][-1].get("parts", []):
            if "functionResponse" in part:
                found.append(part["functionResponse"]["response"])
    return found


async def test_the_adk_agent_takes_an_order_to_a_paid_link(
    gemini: FakeGemini, payments: StripeMCPClient, sandbox: SandboxStore
) -> None:
    gemini.replies += [
        (200, function_call_body(("c1", "order_item", {"name": "Flat white", "quantity": 2}))),
        (200, function_call_body(("c2", "order_item", {"name": "Croissant"}))),
        (200, function_call_body(("c3", "create_stripe_payment", {}))),
        (200, text_body("Here is your link.")),
        (200, function_call_body(("c4", "check_payment_status", {}))),
        (200, text_body("Paid, thank you!")),
    ]
    toolset = shop_toolset(payments, store_url="memory://")
    agent = build_agent(model=Gemini(model="gemini-2.5-flash"), toolset=toolset)
    runner = InMemoryRunner(agent=agent, app_name="bean_there")
    session = await runner.session_service.create_session(app_name="bean_there", user_id=USER)
    with anyio.fail_after(60):
        first = await say(runner, session.id, "Two flat whites and a croissant.")
    assert "Here is your link." in texts(first)
    link = next(r["result"] for r in function_responses(gemini) if "url" in r.get("result", {}))
    assert link["amount"] == "€8.50" and sandbox.get_payment_link(link["payment_id"]) is not None
    assert pay_link(sandbox, link["url"], CARD_SUCCESS).outcome == "paid"
    with anyio.fail_after(60):
        second = await say(runner, session.id, "Paid?")
    assert "Paid, thank you!" in texts(second)
    status = function_responses(gemini)[-1]["result"]
    assert status["payment_status"] == "succeeded" and status["applied"] is True
    text = json.dumps(function_responses(gemini), ensure_ascii=False)
    assert not BANNED.search(text), BANNED.findall(text)
