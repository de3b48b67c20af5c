"""``POST /stripe/webhook``: what is accepted, what is refused, and that a refusal changes nothing.

The app runs in process (httpx's ASGI transport) on each store kind. Events are signed
by the sandbox's signer, and once by the ``stripe`` package's own helper, so the two
agree with Stripe's library independently.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import stripe
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from maya.bar import load_menu
from maya.sandbox.webhooks import sign
from maya.server import MAX_BODY_BYTES, WebhookSecretError, create_app
from maya.state.events import EventOutcome
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.open import open_store
from maya.state.store import TabStore
from state.conftest import Backend

pytestmark = pytest.mark.anyio

SECRET = "whsec_test_" + "a" * 32
OLD_SECRET = "whsec_test_" + "b" * 32
LINK = "plink_test_1"
MARTINI = 1300


def event_body(
    event_id: str = "evt_1",
    type_: str = "checkout.session.completed",
    *,
    link: str = LINK,
    status: str = "paid",
    session: str = "cs_test_1",
) -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "created": int(time.time()),
        "type": type_,
        "livemode": False,
        "data": {
            "object": {
                "id": session,
                "object": "checkout.session",
                "payment_link": link,
                "payment_status": status,
                "status": "complete",
                "amount_total": MARTINI,
                "metadata": {"idempotency_key": "bar_1_v1"},
            }
        },
    }
    return json.dumps(event).encode()


def signed(body: bytes, secret: str = SECRET, *, at: int | None = None) -> dict[str, str]:
    return {"Stripe-Signature": sign(body, secret, int(time.time()) if at is None else at)}


@pytest.fixture
async def manager(backend: Backend) -> AsyncIterator[TabManager]:
    store = backend.open()
    manager = TabManager(store, catalog=load_menu())
    await manager.order("bar", "Martini")
    started = await manager.begin_payment("bar")
    await manager.record_payment_link(
        "bar",
        idempotency_key=started.payment.idempotency_key,
        payment_id=LINK,
        url="https://buy.stripe.com/test_1",
        is_simulated=False,
    )
    try:
        yield manager
    finally:
        await store.aclose()


def client_for(manager: TabManager, **options: Any) -> httpx.AsyncClient:
    app = create_app(manager, webhook_secret=SECRET, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://maya")


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/stripe/webhook", content=body, headers=headers)


async def test_a_signed_paid_event_settles_the_tab(manager: TabManager) -> None:
    body = event_body()
    async with client_for(manager) as client:
        response = await post(client, body, signed(body))
    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "settled"}
    assert (await manager.get("bar")).tab_cents == 0


async def test_stripes_own_signature_helper_is_accepted(manager: TabManager) -> None:
    body = event_body()
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), SECRET)
    async with client_for(manager) as client:
        response = await post(client, body, {"Stripe-Signature": header})
    assert response.json()["outcome"] == "settled"


def test_the_sandbox_signature_is_what_stripe_verifies() -> None:
    body = event_body()
    header = sign(body, SECRET, int(time.time()))
    assert stripe.WebhookSignature.verify_header(body, header, SECRET, tolerance=300)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(body + b" ", header, SECRET, tolerance=300)


def _refusals() -> list[tuple[str, bytes, dict[str, str], int, str]]:
    body = event_body()
    now = int(time.time())
    tampered = body.replace(b'"amount_total": 1300', b'"amount_total": 1')
    assert tampered != body
    not_json = b'{"id": "evt_1", "type": '
    a_list = b'["evt_1"]'
    no_id = json.dumps({"type": "checkout.session.completed", "data": {"object": {}}}).encode()
    return [
        ("tampered body", tampered, signed(body), 400, "signature does not match"),
        ("wrong secret", body, signed(body, OLD_SECRET), 400, "signature does not match"),
        ("stale", body, signed(body, at=now - 301), 400, "timestamp outside the tolerance"),
        ("missing header", body, {}, 400, "missing Stripe-Signature header"),
        ("empty header", body, {"Stripe-Signature": ""}, 400, "missing Stripe-Signature header"),
        (
            "garbled header",
            body,
            {"Stripe-Signature": "nonsense"},
            400,
            "malformed Stripe-Signature header",
        ),
        (
            "no v1",
            body,
            {"Stripe-Signature": f"t={now},v0=abc"},
            400,
            "malformed Stripe-Signature header",
        ),
        (
            "non-ASCII header",  # Stripe's library raised TypeError on it: a 500
            body,
            {"Stripe-Signature": f"t={now},v1=\u00e9".encode("latin-1")},
            400,
            "malformed Stripe-Signature header",
        ),
        ("malformed JSON", not_json, signed(not_json), 400, "malformed JSON"),
        ("not an object", a_list, signed(a_list), 400, "not a Stripe event"),
        ("no event id", no_id, signed(no_id), 400, "event without an id"),
        ("not UTF-8", b"\xff\xfe", signed(b"\xff\xfe"), 400, "body is not UTF-8"),
    ]


_REFUSAL_CASES = [case[0] for case in _refusals()]


# Signed when the test runs, not when it is collected: a whole suite takes longer than
# the signature's 300 s tolerance.
@pytest.mark.parametrize("case", _REFUSAL_CASES)
async def test_bad_deliveries_are_refused_and_change_nothing(
    manager: TabManager, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    _, body, headers, status, reason = next(c for c in _refusals() if c[0] == case)
    before = await manager.get("bar")
    caplog.set_level(logging.DEBUG)
    async with client_for(manager) as client:
        response = await post(client, body, headers)
    assert (response.status_code, response.json()) == (status, {"error": reason})
    assert await manager.get("bar") == before
    assert await manager.store.event_outcome("evt_1") is None  # type: ignore[attr-defined]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert SECRET not in logged and OLD_SECRET not in logged
    assert "cs_test_1" not in logged and "plink" not in logged  # no payload
    [line] = [r.getMessage() for r in caplog.records if r.name == "maya.server"]
    assert line.startswith(f"POST /stripe/webhook {status} ")
    assert line.endswith(f" refused: {reason}")


async def test_a_timestamp_within_the_tolerance_is_accepted(manager: TabManager) -> None:
    body = event_body()
    async with client_for(manager) as client:
        response = await post(client, body, signed(body, at=int(time.time()) - 280))
    assert response.status_code == 200


async def test_several_v1_signatures_one_valid_is_secret_rotation(manager: TabManager) -> None:
    body = event_body()
    now = int(time.time())
    old = sign(body, OLD_SECRET, now).split(",")[1]
    new = sign(body, SECRET, now).split(",")[1]
    async with client_for(manager) as client:
        response = await post(client, body, {"Stripe-Signature": f"t={now},{old},{new}"})
        both_old = await post(client, body, {"Stripe-Signature": f"t={now},{old},{old}"})
    assert response.json()["outcome"] == "settled"
    assert both_old.status_code == 400


async def test_an_oversized_body_is_refused_before_it_is_read(manager: TabManager) -> None:
    body = event_body()
    padded = body[:-1] + b"," + b'"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    async with client_for(manager) as client:
        declared = await post(client, padded, signed(padded))

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(17):
                yield b"x" * 65536

        streamed = await client.post(
            "/stripe/webhook", content=chunks(), headers=signed(b"irrelevant")
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.json() == {"error": f"body over {MAX_BODY_BYTES} bytes"}
    assert (await manager.get("bar")).tab_cents == MARTINI


async def test_other_event_types_and_unknown_links_are_acknowledged(manager: TabManager) -> None:
    other = event_body("evt_2", "customer.created")
    unknown = event_body("evt_3", link="plink_nobody")
    async with client_for(manager) as client:
        first = await post(client, other, signed(other))
        second = await post(client, unknown, signed(unknown))
    assert first.json() == {"received": True, "ignored": "event type"}
    assert second.json() == {"received": True, "outcome": "pending"}
    assert (await manager.get("bar")).tab_cents == MARTINI


async def test_the_same_event_five_times_in_a_row_settles_once(manager: TabManager) -> None:
    body = event_body()
    async with client_for(manager) as client:
        outcomes = [(await post(client, body, signed(body))).json()["outcome"] for _ in range(5)]
    assert outcomes == ["settled"] + ["duplicate"] * 4
    state = await manager.get("bar")
    assert (state.tab_cents, state.credit_cents) == (0, 0)


async def test_the_same_event_five_times_at_once_settles_once(manager: TabManager) -> None:
    body = event_body()
    outcomes: list[str] = []
    async with client_for(manager) as client:

        async def deliver() -> None:
            outcomes.append((await post(client, body, signed(body))).json()["outcome"])

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(5):
                    group.start_soon(deliver)
    assert sorted(outcomes) == ["duplicate"] * 4 + ["settled"]
    assert await manager.store.event_outcome("evt_1") is EventOutcome.SETTLED  # type: ignore[attr-defined]


async def test_an_unusable_store_is_a_503_so_stripe_retries(tmp_path: Path) -> None:
    store: TabStore = open_store(f"sqlite:///{tmp_path / 'gone.sqlite3'}")
    manager = TabManager(store, catalog=load_menu())
    await store.aclose()
    body = event_body()
    async with client_for(manager) as client:
        response = await post(client, body, signed(body))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"


async def test_health_extra_routes_and_one_log_line_per_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    caplog.set_level(logging.INFO, logger="maya.server")
    async with client_for(manager, routes=[Route("/web", hello)]) as client:
        health = await client.get("/healthz?token=secret-looking")
        web = await client.get("/web")
        wrong_method = await client.get("/stripe/webhook")
        unknown = await client.get("/api/nope")
    assert health.json() == {"status": "ok"}
    assert web.text == "hello"
    assert wrong_method.status_code == 405
    # Starlette's own refusals are JSON as the app's are, 405 still naming what is allowed.
    assert wrong_method.json() == {"error": "this endpoint does not take that method"}
    assert wrong_method.headers["allow"] == "POST"
    assert (unknown.status_code, unknown.json()) == (404, {"error": "no such page or endpoint"})
    lines = [r.getMessage() for r in caplog.records if r.name == "maya.server"]
    assert len(lines) == 4
    assert lines[0].startswith("GET /healthz 200 ")
    assert "secret-looking" not in "\n".join(lines)


def test_the_app_refuses_a_secret_that_is_not_a_webhook_secret() -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    for bad in ("", "sk_test_123", "whsec_", " whsec_abcdefgh"):
        with pytest.raises(WebhookSecretError) as caught:
            create_app(manager, webhook_secret=bad)
        assert "STRIPE_WEBHOOK_SECRET" in str(caught.value)
    with pytest.raises(WebhookSecretError) as caught:
        create_app(manager, webhook_secret="sk_test_" + "z" * 20)
    assert "z" * 20 not in str(caught.value)


def test_webhook_secrets_are_masked_whole_wherever_they_appear() -> None:
    from maya.redact import redact

    for secret in (SECRET, "whsec_" + "ab-cd_EF" * 4):
        masked = redact(f"signing with {secret}, then nothing")
        assert masked == "signing with whsec_***, then nothing"
