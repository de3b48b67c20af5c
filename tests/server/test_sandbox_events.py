"""The sandbox sends Checkout events as Stripe does, and Maya settles from them.

In process: the sandbox's MCP server and checkout page, the real ``StripeMCPClient``,
the offline model, and ``maya serve``'s app, connected by httpx's ASGI transports. A
link paid at the checkout form is settled by the event alone; asked afterwards, Maya
answers from the stored state and the gateway is never asked for the status.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import stripe

from maya.agent import Agent
from maya.agent.models.offline import OfflineModel
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.cli import main
from maya.payments import PaymentLink, PaymentStatusResult, StripeMCPClient, WriteHook
from maya.sandbox import CARD_GENERIC_DECLINE, CARD_SUCCESS, MEMORY, SandboxStore, build_mcp_server
from maya.sandbox.cards import ASYNC_FAILURE, ASYNC_SUCCESS
from maya.sandbox.checkout import build_checkout_app
from maya.sandbox.payment import pay_link
from maya.sandbox.remote import apay_url
from maya.sandbox.webhooks import WebhookSender, WebhookTarget, checkout_event, sign
from maya.server import create_app
from maya.state import MemoryTabStore, PaymentStatus, TabManager
from maya.state.events import EventOutcome
from maya.testing import FakeClock
from maya.tools import Toolset

pytestmark = pytest.mark.anyio

SECRET = "whsec_sandbox_" + "c" * 30
SESSION = "evening"


class CountingGateway:
    """The real client, counting the status checks Maya makes."""

    def __init__(self, client: StripeMCPClient) -> None:
        self.client = client
        self.status_checks = 0

    async def create_payment_link(
        self,
        amount_cents: int,
        description: str,
        idempotency_key: str,
        *,
        currency: str,
        look_first: bool = False,
        before_write: WriteHook | None = None,
    ) -> PaymentLink:
        return await self.client.create_payment_link(
            amount_cents,
            description,
            idempotency_key,
            currency=currency,
            look_first=look_first,
            before_write=before_write,
        )

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        return await self.client.deactivate_payment_link(payment_id)

    async def check_payment_status(self, payment_id: str) -> PaymentStatusResult:
        self.status_checks += 1
        return await self.client.check_payment_status(payment_id)


class Recorder:
    """An endpoint that answers a scripted list of statuses and keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 200
        return httpx.Response(status, json={})


@pytest.fixture
def sandbox() -> AsyncIterator[SandboxStore]:
    with SandboxStore(MEMORY) as store:
        yield store  # type: ignore[misc]


async def test_a_delivery_not_answered_2xx_is_retried_with_bounded_backoff(
    sandbox: SandboxStore,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    endpoint = Recorder([500, 503, 200])
    sender = WebhookSender(
        WebhookTarget("http://maya/stripe/webhook", SECRET),
        sandbox,
        sleep=sleep,
        delays=(0.5, 1.0, 2.0),
        transport=httpx.MockTransport(endpoint),
    )
    session = {"id": "cs_test_1", "payment_link": "plink_1", "payment_status": "paid"}
    event_id, status = await sender.emit(session, "checkout.session.completed")
    assert (status, waits, len(endpoint.requests)) == (200, [0.5, 1.0], 3)
    for request in endpoint.requests:
        header = request.headers["Stripe-Signature"]
        assert stripe.WebhookSignature.verify_header(request.content, header, SECRET, 300)
    [listed] = sandbox.list_events()
    assert (listed["id"], listed["attempts"], listed["last_status"]) == (event_id, 3, 200)

    never = Recorder([500] * 10)
    waits.clear()
    failing = WebhookSender(
        WebhookTarget("http://maya/stripe/webhook", SECRET),
        sandbox,
        sleep=sleep,
        delays=(0.5, 1.0, 2.0),
        transport=httpx.MockTransport(never),
    )
    assert await failing.resend(event_id) == 500
    assert (waits, len(never.requests)) == ([0.5, 1.0, 2.0], 4)
    assert {r.content for r in never.requests} == {endpoint.requests[0].content}
    await sender.aclose()
    await failing.aclose()


def test_an_event_is_shaped_as_stripes() -> None:
    session = {"id": "cs_test_1", "payment_link": "plink_1", "metadata": {"k": "v"}}
    event = checkout_event(session, "checkout.session.completed", created=1_800_000_000)
    assert event["id"].startswith("evt_") and len(event["id"]) > 10
    assert event["object"] == "event" and event["livemode"] is False
    assert event["data"]["object"] == session and event["created"] == 1_800_000_000
    body = b'{"a":1}'
    assert sign(body, SECRET, 100).startswith("t=100,v1=")
    assert sign(body, SECRET, 100) != sign(body, SECRET + "x", 100)


def test_a_webhook_url_needs_a_whsec_secret() -> None:
    assert WebhookTarget.from_options(None, None, environ={}) is None
    from_env = WebhookTarget.from_options(
        None,
        None,
        environ={
            "MAYA_SANDBOX_WEBHOOK_URL": "http://127.0.0.1:1/stripe/webhook",
            "MAYA_SANDBOX_WEBHOOK_SECRET": SECRET,
        },
    )
    assert from_env is not None and from_env.secret == SECRET
    assert SECRET not in repr(from_env)
    for url, secret in (("http://x/h", None), ("http://x/h", "sk_test_1"), ("ftp://x", SECRET)):
        with pytest.raises(ValueError):
            WebhookTarget.from_options(url, secret, environ={})


async def test_paid_at_the_checkout_the_tab_settles_by_event_and_maya_answers_from_it(
    sandbox: SandboxStore,
) -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    maya = create_app(manager, webhook_secret=SECRET)
    sender = WebhookSender(
        WebhookTarget("http://maya/stripe/webhook", SECRET),
        sandbox,
        transport=httpx.ASGITransport(app=maya),
    )
    checkout = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=build_checkout_app(sandbox, webhooks=sender)),
        base_url="http://127.0.0.1:9",
    )
    server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with (
        StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as client,
        checkout,
    ):
        gateway = CountingGateway(client)
        agent = Agent(
            model=OfflineModel(),
            toolset=Toolset(manager=manager, payments=gateway, messages=bar_messages()),
            manager=manager,
            clock=clock,
            sleep=clock.sleep,
        )
        with anyio.fail_after(30):
            await agent.respond(SESSION, "A martini please")
            asked = await agent.respond(SESSION, "Check please")
            link = (await manager.get(SESSION)).current_payment
            assert link is not None and link.url is not None and link.url in asked.reply
            declined = await apay_url(link.url, CARD_GENERIC_DECLINE, client=checkout)
            assert declined.outcome == "declined"
            assert sandbox.list_events() == []  # a declined card completes no session
            paid = await apay_url(link.url, CARD_SUCCESS, client=checkout)
            assert paid.paid
            # The event was delivered (ASGI transport: the page's background task ran).
            state = await manager.get(SESSION)
            assert state.tab_cents == 0
            assert state.payment_status is PaymentStatus.COMPLETED
            assert state.payments[-1].amount_paid_cents == 1300
            [sent] = sandbox.list_events()
            assert (sent["type"], sent["last_status"]) == ("checkout.session.completed", 200)
            answer = await agent.respond(SESSION, "Did my payment go through?")
        assert gateway.status_checks == 0
        [call] = answer.tool_calls
        assert call.name == "check_payment_status"
        result: dict[str, Any] = call.result
        assert result["confirmed_by"] == "stripe_webhook"
        assert result["tab"] == "$0.00"
        assert "Stripe confirmed it" in answer.reply and "$0.00" in answer.reply
    await sender.aclose()


@pytest.mark.parametrize(("iban", "settles"), [(ASYNC_SUCCESS, True), (ASYNC_FAILURE, False)])
async def test_an_async_debit_completes_unpaid_then_succeeds_or_fails_by_event(
    sandbox: SandboxStore, iban: str, settles: bool
) -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    maya = create_app(manager, webhook_secret=SECRET)
    sender = WebhookSender(
        WebhookTarget("http://maya/stripe/webhook", SECRET),
        sandbox,
        transport=httpx.ASGITransport(app=maya),
    )
    seen_while_waiting: list[tuple[PaymentStatus, int, str]] = []

    async def sleep(seconds: float) -> None:
        # Between the two events: completed unpaid was applied, nothing settled yet.
        state = await manager.get(SESSION)
        [event] = sandbox.list_events()
        seen_while_waiting.append((state.payment_status, state.tab_cents, event["type"]))
        assert seconds == 2.0

    checkout_app = build_checkout_app(sandbox, webhooks=sender, sleep=sleep)
    server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with (
        StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as client,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=checkout_app), base_url="http://127.0.0.1:9"
        ) as checkout,
    ):
        toolset = Toolset(manager=manager, payments=client)
        with anyio.fail_after(30):
            await toolset.call("order_drink", {"name": "Gin"}, SESSION)
            made = await toolset.call("create_stripe_payment", {}, SESSION)
            result = await apay_url(made["result"]["url"], iban.lower(), client=checkout)
    assert (result.outcome, result.later) == ("processing", "succeeded" if settles else "failed")
    assert seen_while_waiting == [(PaymentStatus.PENDING, 800, "checkout.session.completed")]
    state = await manager.get(SESSION)
    if settles:
        assert (state.tab_cents, state.payment_status) == (0, PaymentStatus.COMPLETED)
    else:
        assert (state.tab_cents, state.payment_status) == (800, PaymentStatus.FAILED)
        assert state.balance_cents == 100_000 - 800
    kinds = sorted(event["type"] for event in sandbox.list_events())
    second = "succeeded" if settles else "failed"
    assert kinds == [f"checkout.session.async_payment_{second}", "checkout.session.completed"]
    outcomes = {
        await manager.store.event_outcome(event["id"])  # type: ignore[attr-defined]
        for event in sandbox.list_events()
    }
    assert outcomes == {
        EventOutcome.AWAITING,
        EventOutcome.SETTLED if settles else EventOutcome.FAILED,
    }
    await sender.aclose()


def test_sandbox_events_lists_what_was_sent_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sandbox.sqlite3"
    assert main(["sandbox", "events", "--db", str(db)]) == 2
    assert not db.exists()
    assert "no sandbox database" in capsys.readouterr().err
    with SandboxStore(db) as store:
        assert main(["sandbox", "events", "--db", str(db)]) == 0
        assert "no events sent" in capsys.readouterr().out
        sent = checkout_event({"id": "cs_1"}, "checkout.session.completed", created=5)
        store.record_event(sent)
        store.note_delivery(sent["id"], 500)
        store.note_delivery(sent["id"], 200)
    assert main(["sandbox", "events", "--db", str(db), "--json"]) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed == {
        "id": sent["id"],
        "type": "checkout.session.completed",
        "created": 5,
        "attempts": 2,
        "last_status": 200,
    }
    resend = ["sandbox", "events", "--db", str(db), "resend", "evt_nope"]
    assert main([*resend, "--webhook-url", "http://127.0.0.1:9/h", "--webhook-secret", SECRET]) == 2
    assert "no event 'evt_nope'" in capsys.readouterr().err
    assert main([*resend, "--webhook-url", "http://127.0.0.1:9/h", "--webhook-secret", "x"]) == 2
    assert "whsec_" in capsys.readouterr().err


def test_expiring_ends_only_the_open_session_and_the_link_stays_payable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "sandbox.sqlite3"
    with SandboxStore(db) as store:
        product = store.create_product(name="tab")
        price = store.create_price(product=product["id"], unit_amount=500, currency="usd")
        link = store.create_payment_link(line_items=[(price["id"], 1)])
        declined = pay_link(store, link["id"], CARD_GENERIC_DECLINE)
        assert declined.session is not None and declined.session["status"] == "open"
    assert main(["sandbox", "expire", link["id"], "--db", str(db)]) == 0
    assert f"{declined.session['id']}: expired" in capsys.readouterr().out
    assert main(["sandbox", "expire", link["id"], "--db", str(db)]) == 1  # nothing open now
    assert main(["sandbox", "expire", "plink_nope", "--db", str(db)]) == 2
    with SandboxStore(db) as store:
        sessions, _ = store.list_checkout_sessions(payment_link=link["id"])
        assert [s["status"] for s in sessions] == ["expired"]
        assert store.list_events() == []  # no webhook was given
        assert pay_link(store, link["id"], CARD_SUCCESS).paid  # on a new session
