"""The sandbox's events have Stripe's shapes: checked against Stripe's own fixtures."""

from __future__ import annotations

import json
import time
from typing import Any

from maya.sandbox import CARD_SUCCESS, MEMORY, SandboxStore
from maya.sandbox.payment import pay_link
from maya.sandbox.webhooks import CHECKOUT_SESSION_FIELDS, EVENT_FIELDS, checkout_event, sign
from maya.server import parse_event
from maya.state.events import PaymentEvent

from .stripe_fixtures import load

SECRET = "whsec_test_" + "s" * 32


def _kind(value: object) -> str:
    return (
        "number" if isinstance(value, int) and not isinstance(value, bool) else type(value).__name__
    )


def _paid_session() -> dict[str, Any]:
    with SandboxStore(MEMORY) as store:
        product = store.create_product(name="Maya bar tab")
        price = store.create_price(product=product["id"], unit_amount=3100, currency="usd")
        link = store.create_payment_link(
            line_items=[(price["id"], 1)], metadata={"idempotency_key": "bar_1_v1"}
        )
        result = pay_link(store, link["id"], CARD_SUCCESS)
    assert result.session is not None
    return result.session


def test_the_sandbox_event_has_exactly_stripes_event_fields() -> None:
    stripe_event = load("event")
    event = checkout_event(_paid_session(), "checkout.session.completed", created=1)
    assert set(EVENT_FIELDS) == set(stripe_event) == set(event)
    for field in EVENT_FIELDS:
        if field != "data" and stripe_event[field] is not None:
            assert _kind(event[field]) == _kind(stripe_event[field]), field


def test_the_sandbox_session_has_only_stripes_checkout_session_fields_and_types() -> None:
    stripe_session = load("checkout_session")
    assert set(stripe_session) >= CHECKOUT_SESSION_FIELDS
    sent = checkout_event(_paid_session(), "checkout.session.completed", created=1)["data"][
        "object"
    ]
    assert set(sent) <= set(stripe_session)
    assert {"amount_total", "currency", "payment_status", "payment_link", "livemode"} <= set(sent)
    for field, value in sent.items():
        if value is not None and stripe_session[field] is not None:
            assert _kind(value) == _kind(stripe_session[field]), field
    assert (sent["object"], sent["mode"]) == (stripe_session["object"], stripe_session["mode"])


def test_maya_reads_the_sandbox_event_as_it_reads_stripes() -> None:
    event = checkout_event(_paid_session(), "checkout.session.completed", created=1)
    body = json.dumps(event).encode()
    read = parse_event(body, sign(body, SECRET, int(time.time())), SECRET)
    assert isinstance(read, PaymentEvent)
    assert (read.amount_total, read.currency, read.livemode, read.paid) == (
        3100,
        "usd",
        False,
        True,
    )
    assert read.idempotency_key == "bar_1_v1" and read.payment_id is not None
