"""A store that cannot answer, under every endpoint: Maya's words as JSON, never a 500.

The store fails after the browser has its cookie; each endpoint must answer with a JSON
body in Maya's words, the store's code and ``retryable``, as a 503 with ``Retry-After``,
and work again once the store is back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from failing_store import FailingStore
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.codes import ErrorCode
from maya.payments.errors import StripeMCPError
from maya.state.manager import TabManager
from maya.tools.context import PaymentLinkInfo, PaymentStatusInfo

from .conftest import ORIGIN, make_app
from .test_routes import events_of

POST = {"Origin": ORIGIN}
WORDS = bar_messages()  # the page speaks in the bar's voice

# (method, path, JSON body) of every endpoint that touches the store.
ENDPOINTS = [
    ("GET", "/api/tab", None),
    ("POST", "/api/tip", {"percent": 15}),
    ("POST", "/api/new-tab", None),
    ("POST", "/api/pay", None),
    ("POST", "/api/payment/check", None),
]


class UnreachableStripe:
    """A payment gateway that is set up but cannot be reached (the store fails first)."""

    async def create_payment_link(
        self, amount_cents: int, description: str, idempotency_key: str, **options: object
    ) -> PaymentLinkInfo:
        raise StripeMCPError("Stripe is not reachable from this test")

    async def deactivate_payment_link(self, payment_id: str) -> object:
        raise StripeMCPError("Stripe is not reachable from this test")

    async def check_payment_status(self, payment_id: str) -> PaymentStatusInfo:
        raise StripeMCPError("Stripe is not reachable from this test")


@pytest.fixture
def store() -> FailingStore:
    return FailingStore()


@pytest.fixture
def browser(store: FailingStore) -> Iterator[TestClient]:
    app = make_app(TabManager(store, catalog=load_menu()), payments=UnreachableStripe())
    with TestClient(app, base_url=ORIGIN) as client:
        assert client.get("/").status_code == 200
        # Something on the tab, so paying and tipping reach the store.
        assert client.post("/api/chat", json={"message": "a water"}, headers=POST).is_success
        yield client


@pytest.mark.parametrize("code", [ErrorCode.STORE_UNAVAILABLE, ErrorCode.STORE_BUSY])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_a_failing_store_is_answered_in_maya_s_words_with_retry_after(
    store: FailingStore,
    browser: TestClient,
    code: ErrorCode,
    method: str,
    path: str,
    body: dict[str, int] | None,
) -> None:
    store.code, store.failing = code, True
    response = browser.request(method, path, json=body, headers=POST)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/json"
    assert "content-security-policy" in response.headers
    data = response.json()
    assert data["code"] == code.value
    assert data["retryable"] is True
    words = data.get("error") or data.get("message")
    assert words == WORDS.render(code, {})
    assert "Traceback" not in response.text and "test database" not in response.text

    store.failing = False
    again = browser.request(method, path, json=body, headers=POST)
    assert again.status_code != 503


def test_a_chat_turn_on_a_failing_store_answers_in_words(
    store: FailingStore, browser: TestClient
) -> None:
    store.failing = True
    response = browser.post("/api/chat", json={"message": "a martini please"}, headers=POST)
    assert response.status_code == 200
    events = dict(events_of(response.text))
    words = WORDS.render(ErrorCode.STORE_UNAVAILABLE, {"quantity": 1, "item": "Martini"})
    assert words.startswith("1 x Martini is not on your tab")
    assert words in events["done"]["reply"]


def test_the_tab_stream_ends_cleanly_when_the_store_fails(
    store: FailingStore, browser: TestClient
) -> None:
    store.failing = True
    response = browser.get("/api/tab/events")
    assert response.status_code == 200
    # The browser's EventSource reconnects after a second; nothing else was sent.
    assert response.text == "retry: 1000\n\n"
