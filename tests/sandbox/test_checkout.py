"""The checkout page, driven over ASGI with httpx as a browser would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from maya.sandbox import (
    CARD_GENERIC_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    SandboxStore,
    apay_url,
    build_checkout_app,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def browser(store: SandboxStore) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_checkout_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


def _link(store: SandboxStore, name: str = "Long Island", cents: int = 1250) -> dict[str, Any]:
    product = store.create_product(name=name)
    price = store.create_price(product=product["id"], unit_amount=cents, currency="usd")
    link = store.create_payment_link(line_items=[(price["id"], 1)])
    return link


def _sessions(store: SandboxStore, link: dict[str, Any]) -> list[dict[str, Any]]:
    return store.list_checkout_sessions(payment_link=link["id"])[0]


async def test_the_page_shows_amount_description_and_a_plain_form(
    browser: httpx.AsyncClient, store: SandboxStore
) -> None:
    link = _link(store)
    page = await browser.get(link["url"])
    assert page.status_code == 200
    assert "$12.50" in page.text
    assert "Long Island" in page.text
    assert 'name="card_number"' in page.text
    assert f'<form method="post" action="{link["url"]}">' in page.text
    assert "<script" not in page.text


async def test_the_success_card_completes_a_paid_session(
    browser: httpx.AsyncClient, store: SandboxStore
) -> None:
    link = _link(store)
    page = await browser.post(link["url"], data={"card_number": "4242 4242 4242 4242"})
    [session] = _sessions(store, link)
    assert page.status_code == 200
    assert "Payment complete" in page.text
    assert (session["status"], session["payment_status"], session["amount_total"]) == (
        "complete",
        "paid",
        1250,
    )


@pytest.mark.parametrize(
    ("card", "code", "message"),
    [
        (CARD_GENERIC_DECLINE, "generic_decline", "Your card was declined."),
        (CARD_INSUFFICIENT_FUNDS, "insufficient_funds", "Your card has insufficient funds."),
    ],
)
async def test_declining_cards_leave_the_session_open_with_the_decline_code(
    browser: httpx.AsyncClient, store: SandboxStore, card: str, code: str, message: str
) -> None:
    link = _link(store)
    page = await browser.post(link["url"], data={"card_number": card})
    [session] = _sessions(store, link)
    assert page.status_code == 402
    assert message in page.text
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert session["last_payment_error"]["decline_code"] == code


async def test_an_unknown_number_is_invalid_and_touches_nothing(
    browser: httpx.AsyncClient, store: SandboxStore
) -> None:
    link = _link(store)
    page = await browser.post(link["url"], data={"card_number": "1234 5678"})
    assert page.status_code == 400
    assert "Your card number is invalid." in page.text
    assert _sessions(store, link) == []


async def test_a_deactivated_link_shows_inactive_and_refuses_payment(
    browser: httpx.AsyncClient, store: SandboxStore
) -> None:
    link = _link(store)
    store.update_payment_link(link["id"], active=False)
    shown = await browser.get(link["url"])
    paid = await browser.post(link["url"], data={"card_number": CARD_SUCCESS})
    assert (shown.status_code, paid.status_code) == (410, 410)
    assert "This link is no longer active" in shown.text
    assert "This link is no longer active" in paid.text
    assert _sessions(store, link) == []


async def test_an_unknown_link_is_not_found(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/b/test_doesnotexist")
    assert page.status_code == 404


async def test_everything_shown_is_html_escaped(
    browser: httpx.AsyncClient, store: SandboxStore
) -> None:
    link = _link(store, name='<script>alert("x")</script> & Co')
    page = await browser.get(link["url"])
    declined = await browser.post(
        link["url"], data={"card_number": '"><img src=x onerror=alert(1)>'}
    )
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in page.text
    assert "<img src=x" not in declined.text
    assert "&quot;&gt;&lt;img" in declined.text


async def test_json_answers_for_scripts(browser: httpx.AsyncClient, store: SandboxStore) -> None:
    link = _link(store)
    result = await apay_url(link["url"], CARD_SUCCESS, client=browser)
    assert result.paid
    assert result.session is not None
    assert result.session["payment_status"] == "paid"


async def test_a_redirect_after_completion_becomes_a_link_only_for_web_urls(
    browser: httpx.AsyncClient, store: SandboxStore
) -> None:
    link = _link(store)
    safe = store.create_payment_link(
        line_items=[(link["line_items"]["data"][0]["price"]["id"], 1)],
        after_completion={"type": "redirect", "redirect": {"url": "https://bar.example/done"}},
    )
    unsafe = store.create_payment_link(
        line_items=[(link["line_items"]["data"][0]["price"]["id"], 1)],
        after_completion={"type": "redirect", "redirect": {"url": "javascript:alert(1)"}},
    )
    ok = await browser.post(safe["url"], data={"card_number": CARD_SUCCESS})
    bad = await browser.post(unsafe["url"], data={"card_number": CARD_SUCCESS})
    assert 'href="https://bar.example/done"' in ok.text
    assert "javascript:" not in bad.text
