"""Money is right in every Stripe outcome (issue 21), on memory, SQLite and PostgreSQL.

Every event here is Stripe's own event and Checkout Session fixture (``stripe_fixtures``)
at API version 2020-08-27, signed as Stripe signs, through ``maya serve``'s app; the
``stripe`` library is the oracle for what a verifier accepts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import stripe

from maya.bar import load_menu
from maya.payments._links import STRIPE_LINK_HOSTS
from maya.sandbox.webhooks import sign
from maya.server import create_app
from maya.server import webhook as webhook_module
from maya.state.events import EventOutcome
from maya.state.manager import TabManager
from maya.state.models import PaymentStatus, TabState
from maya.state.view import tab_line
from maya.tools.views import bill_view
from maya.web.views import tab_view
from state.conftest import Backend

from .stripe_fixtures import checkout_session, load, snapshot_event, thin_event

pytestmark = pytest.mark.anyio

SECRET = "whsec_test_" + "f" * 32
SESSION = "bar"
L1, L2 = "plink_test_L1", "plink_test_L2"


class Links:
    """Stripe's side of deactivating links: refuses (no permission) unless ``allow``."""

    def __init__(self, *, allow: bool) -> None:
        self.allow = allow
        self.asked: list[str] = []

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        self.asked.append(payment_id)
        return self.allow


@pytest.fixture
async def manager(backend: Backend) -> AsyncIterator[TabManager]:
    store = backend.open()
    try:
        yield TabManager(store, catalog=load_menu())
    finally:
        await store.aclose()


async def linked(manager: TabManager, payment_id: str) -> str:
    """Pay: snapshot what is due and record ``payment_id`` as its link; the snapshot key."""
    started = await manager.begin_payment(SESSION)
    await manager.record_payment_link(
        SESSION,
        idempotency_key=started.payment.idempotency_key,
        payment_id=payment_id,
        url=f"https://buy.stripe.com/test_{payment_id}",
        is_simulated=False,
    )
    return started.payment.idempotency_key


async def two_links(manager: TabManager) -> None:
    """ "Two martinis and a beer", Pay (L1, $31); "and a beer", Pay (L2, $36)."""
    await manager.order(SESSION, "Martini", 2)
    await manager.order(SESSION, "Tap Beer")
    await linked(manager, L1)
    await manager.order(SESSION, "Tap Beer")
    await linked(manager, L2)


def paid_event(
    link: str,
    amount: int,
    *,
    event_id: str,
    session_id: str | None = None,
    currency: str = "usd",
    livemode: bool = False,
    type_: str = "checkout.session.completed",
    key: str | None = None,
) -> bytes:
    session = checkout_session(
        session_id=session_id or f"cs_test_{event_id}",
        link=link,
        amount_total=amount,
        currency=currency,
        livemode=livemode,
        metadata={"idempotency_key": key} if key else None,
    )
    return json.dumps(snapshot_event(session, event_id=event_id, type_=type_)).encode()


def client_for(manager: TabManager, **options: Any) -> httpx.AsyncClient:
    app = create_app(manager, webhook_secret=SECRET, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://maya")


async def deliver(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    header = sign(body, SECRET, int(time.time()))
    return await client.post("/stripe/webhook", content=body, headers={"Stripe-Signature": header})


def shown(state: TabState) -> str:
    """Everything the customer and the staff are shown: bill, overlay, ``maya state show``."""
    bill = json.dumps(bill_view(state))
    overlay = json.dumps(tab_view(state, hosts=STRIPE_LINK_HOSTS))
    return "\n".join((bill, overlay, tab_line(state)))


# -- 1. a superseded link paid late -------------------------------------------------


async def test_a_late_paid_old_link_deactivates_the_newer_one_and_records_it(
    manager: TabManager,
) -> None:
    await two_links(manager)
    links = Links(allow=True)
    async with client_for(manager, links=links) as client:
        answer = await deliver(client, paid_event(L1, 3100, event_id="evt_L1"))
    assert answer.json() == {"received": True, "outcome": "settled"}
    state = await manager.get(SESSION)
    assert links.asked == [L2]
    l2 = state.find_payment(L2)
    assert l2 is not None and l2.superseded and l2.link_closed
    assert state.stale_links == () and state.total_due_cents == 500
    # "Has it cleared?" reads the payment that counted, not the stale $36 link.
    assert state.current_payment is not None and state.current_payment.payment_id == L1
    assert state.payment_status is PaymentStatus.COMPLETED
    assert "$36.00" not in shown(state) and L2 not in shown(state)
    # Pay again: a new link for what is due, never the old one.
    again = await manager.begin_payment(SESSION)
    assert (again.reused, again.payment.snapshot.amount_cents) == (False, 500)


@pytest.mark.parametrize("refusal", ["no permission", "stripe down"])
async def test_a_newer_link_that_cannot_be_closed_is_shown_as_open_but_not_owed(
    manager: TabManager, refusal: str
) -> None:
    await two_links(manager)

    class Down(Links):
        async def deactivate_payment_link(self, payment_id: str) -> bool:
            self.asked.append(payment_id)
            raise TimeoutError("Stripe did not answer")

    links = Links(allow=False) if refusal == "no permission" else Down(allow=False)
    async with client_for(manager, links=links) as client:
        await deliver(client, paid_event(L1, 3100, event_id="evt_L1"))
        state = await manager.get(SESSION)
        assert links.asked == [L2] and [r.payment_id for r in state.stale_links] == [L2]
        assert state.total_due_cents == 500 and state.credit_cents == 0
        words = tab_line(state)
        assert "tab $5.00" in words and "due $5.00" in words
        assert f"link {L2} ($36.00) still open at Stripe but nothing is owed on it" in words
        assert "credit to refund" in words and "pay here" not in words
        bill, overlay = bill_view(state), tab_view(state, hosts=STRIPE_LINK_HOSTS)
        for view in (bill, overlay):
            assert view["open_links_not_owed"][0]["payment_id"] == L2
            assert "test_" + L2 not in json.dumps(view)  # the stale URL is never offered
        assert bill["payment"]["status"] == "completed"
        # The customer pays the stale link anyway: $31 of its $36 is credit to refund.
        answer = await deliver(client, paid_event(L2, 3600, event_id="evt_L2"))
    assert answer.json()["outcome"] == "settled"
    state = await manager.get(SESSION)
    assert (state.tab_cents, state.total_due_cents, state.credit_cents) == (0, 0, 3100)
    assert state.needs_reconciliation and state.stale_links == ()
    assert "credit $31.00 to refund" in tab_line(state)
    assert bill_view(state)["credit_to_refund"] is True


# -- 2. short and over payments -----------------------------------------------------


async def test_a_short_payment_leaves_the_shortfall_due(manager: TabManager) -> None:
    await manager.order(SESSION, "Martini", 2)
    await manager.order(SESSION, "Tap Beer")
    await linked(manager, L1)
    async with client_for(manager) as client:
        answer = await deliver(client, paid_event(L1, 2100, event_id="evt_short"))
    assert answer.json()["outcome"] == "settled"
    state = await manager.get(SESSION)
    assert (state.tab_cents, state.shortfall_cents, state.total_due_cents) == (0, 1000, 1000)
    assert state.credit_cents == 0 and state.needs_reconciliation
    assert "due $10.00" in tab_line(state) and "shortfall $10.00 still due" in tab_line(state)
    bill = bill_view(state)
    assert (bill["shortfall_cents"], bill["total_due_cents"]) == (1000, 1000)
    assert bill["payment"]["paid_short_cents"] == 1000
    assert tab_view(state, hosts=STRIPE_LINK_HOSTS)["shortfall_cents"] == 1000
    # Paying what is still due clears it; the link is for exactly the shortfall.
    await linked(manager, L2)
    assert (await manager.get(SESSION)).payments[-1].snapshot.amount_cents == 1000
    async with client_for(manager) as client:
        await deliver(client, paid_event(L2, 1000, event_id="evt_rest"))
    state = await manager.get(SESSION)
    assert (state.total_due_cents, state.shortfall_cents, state.credit_cents) == (0, 0, 0)


async def test_an_over_payment_is_credit_to_refund_as_a_second_session_is(
    manager: TabManager,
) -> None:
    await manager.order(SESSION, "Martini", 2)
    await manager.order(SESSION, "Tap Beer")
    await linked(manager, L1)
    async with client_for(manager) as client:
        await deliver(client, paid_event(L1, 3600, event_id="evt_over"))
        over = await manager.get(SESSION)
        assert (over.total_due_cents, over.credit_cents) == (0, 500)
        assert over.needs_reconciliation and "credit $5.00 to refund" in tab_line(over)
        assert bill_view(over)["payment"]["overpaid_cents"] == 500
        # A second paid session on the link: its whole amount is credit too.
        answer = await deliver(client, paid_event(L1, 3100, event_id="evt_again"))
    assert answer.json()["outcome"] == "overpaid"
    assert (await manager.get(SESSION)).credit_cents == 500 + 3100


# -- 3. livemode and currency -------------------------------------------------------


async def test_an_event_of_the_other_mode_changes_nothing_and_is_kept(
    manager: TabManager, caplog: pytest.LogCaptureFixture
) -> None:
    await manager.order(SESSION, "Martini", 2)
    await manager.order(SESSION, "Tap Beer")
    await linked(manager, L1)
    before = await manager.get(SESSION)
    body = paid_event(L1, 3100, event_id="evt_live", livemode=True)
    with caplog.at_level(logging.WARNING, logger="maya.server.webhook"):
        async with client_for(manager, livemode=False) as client:
            first = await deliver(client, body)
            again = await deliver(client, body)
    assert first.status_code == 200 and first.json()["outcome"] == "wrong_mode"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert await manager.get(SESSION) == before
    assert await manager.store.event_outcome("evt_live") is EventOutcome.WRONG_MODE
    assert any("evt_live changed nothing: wrong_mode" in r.getMessage() for r in caplog.records)
    # The same payment in test mode still settles, once, with no phantom second session.
    async with client_for(manager, livemode=False) as client:
        ok = await deliver(client, paid_event(L1, 3100, event_id="evt_test"))
    assert ok.json()["outcome"] == "settled"
    state = await manager.get(SESSION)
    assert (state.total_due_cents, state.credit_cents) == (0, 0)


async def test_the_mode_comes_from_the_apps_stripe_client(manager: TabManager) -> None:
    await manager.order(SESSION, "Water")
    await linked(manager, L1)

    class LiveClient(Links):
        mode = "live"

    app = create_app(manager, webhook_secret=SECRET)
    app.state.context = type("Context", (), {"payments": LiveClient(allow=True)})()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://maya") as client:
        test_mode = await deliver(client, paid_event(L1, 100, event_id="evt_t"))
    assert test_mode.json()["outcome"] == "wrong_mode"


async def test_an_event_in_another_currency_changes_nothing_and_is_kept(
    manager: TabManager,
) -> None:
    await manager.order(SESSION, "Martini", 2)
    await manager.order(SESSION, "Tap Beer")
    await linked(manager, L1)
    before = await manager.get(SESSION)
    async with client_for(manager) as client:
        yen = await deliver(client, paid_event(L1, 3100, event_id="evt_jpy", currency="jpy"))
        assert yen.status_code == 200 and yen.json()["outcome"] == "wrong_currency"
        assert await manager.get(SESSION) == before
        upper = await deliver(client, paid_event(L1, 3100, event_id="evt_usd", currency="USD"))
    assert upper.json()["outcome"] == "settled"  # Stripe's codes are lowercase; USD is usd
    assert await manager.store.event_outcome("evt_jpy") is EventOutcome.WRONG_CURRENCY
    state = await manager.get(SESSION)
    assert (state.total_due_cents, state.credit_cents) == (0, 0)


async def test_a_kept_event_in_another_currency_changes_nothing_when_its_link_is_recorded(
    manager: TabManager,
) -> None:
    await manager.order(SESSION, "Martini")
    started = await manager.begin_payment(SESSION)
    async with client_for(manager) as client:
        early = await deliver(client, paid_event(L1, 1300, event_id="evt_early", currency="jpy"))
    assert early.json()["outcome"] == "pending"
    state = await manager.record_payment_link(
        SESSION,
        idempotency_key=started.payment.idempotency_key,
        payment_id=L1,
        url="https://buy.stripe.com/test_1",
        is_simulated=False,
    )
    assert state.total_due_cents == 1300 and state.payment_status is PaymentStatus.PENDING
    assert await manager.store.event_outcome("evt_early") is EventOutcome.WRONG_CURRENCY


# -- 4 and 5. v2 thin notifications, a BOM, one parse -------------------------------


async def test_a_v2_thin_notification_is_answered_200_not_handled(manager: TabManager) -> None:
    body = json.dumps(thin_event()).encode()
    header = sign(body, SECRET, int(time.time()))
    # The oracle: stripe's snapshot parser refuses it, its thin-event parser reads it.
    with pytest.raises(ValueError, match="thin event"):
        stripe.Webhook.construct_event(body, header, SECRET)
    notification = stripe.StripeClient("sk_test_x").parse_event_notification(body, header, SECRET)
    assert notification.id == "evt_234"
    async with client_for(manager) as client:
        answer = await deliver(client, body)
    assert answer.status_code == 200
    assert answer.json() == {"received": True, "ignored": "v2 thin notification"}


async def test_a_body_with_a_utf8_bom_is_accepted_as_stripes_library_accepts_it(
    manager: TabManager,
) -> None:
    await manager.order(SESSION, "Martini")
    await linked(manager, L1)
    body = "\ufeff".encode() + paid_event(L1, 1300, event_id="evt_bom")
    header = sign(body, SECRET, int(time.time()))
    assert stripe.Webhook.construct_event(body, header, SECRET).id == "evt_bom"
    async with client_for(manager) as client:
        answer = await client.post(
            "/stripe/webhook", content=body, headers={"Stripe-Signature": header}
        )
    assert answer.json() == {"received": True, "outcome": "settled"}


async def test_the_body_is_parsed_once(
    manager: TabManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    await manager.order(SESSION, "Martini")
    await linked(manager, L1)
    parsed: list[int] = []
    real = json.loads

    def counting(text: Any, *args: Any, **kwargs: Any) -> Any:
        if "evt_once" in str(text):  # the event's body, not another module's JSON
            parsed.append(1)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(webhook_module.json, "loads", counting)
    async with client_for(manager) as client:
        answer = await deliver(client, paid_event(L1, 1300, event_id="evt_once"))
    monkeypatch.undo()
    assert answer.json()["outcome"] == "settled"
    assert len(parsed) == 1


async def test_every_fixture_api_version_settles_once(manager: TabManager) -> None:
    await manager.order(SESSION, "Martini")
    await linked(manager, L1)
    outcomes = []
    async with client_for(manager) as client:
        for n, version in enumerate(("2020-08-27", "2024-06-20", "2026-10-28.clover")):
            session = checkout_session(session_id="cs_test_same", link=L1, amount_total=1300)
            event = snapshot_event(session, event_id=f"evt_v{n}", api_version=version)
            outcomes.append((await deliver(client, json.dumps(event).encode())).json()["outcome"])
    assert outcomes == ["settled", "already_settled", "already_settled"]
    assert (await manager.get(SESSION)).credit_cents == 0


async def test_json_nested_past_the_parsers_depth_is_a_400(manager: TabManager) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    async with client_for(manager) as client:
        answer = await deliver(client, body)
    assert (answer.status_code, answer.json()) == (400, {"error": "malformed JSON"})


@pytest.mark.parametrize(
    ("type_", "fixture"),
    [
        ("charge.succeeded", "charge"),
        ("charge.refunded", "refund"),
        ("payment_link.updated", "payment_link"),
    ],
)
async def test_stripes_other_objects_are_acknowledged_and_change_nothing(
    manager: TabManager, type_: str, fixture: str
) -> None:
    await manager.order(SESSION, "Martini")
    await linked(manager, L1)
    before = await manager.get(SESSION)
    event = load("event")
    event.update(id=f"evt_{fixture}", type=type_, data={"object": load(fixture)})
    async with client_for(manager) as client:
        answer = await deliver(client, json.dumps(event).encode())
    assert answer.json() == {"received": True, "ignored": "event type"}
    assert await manager.get(SESSION) == before
