"""The checkout page: where a person (or a script) pays a sandbox payment link.

``GET /b/test_<token>`` shows a plain HTML card form; ``POST`` tries the card (JSON when
``Accept`` asks). 200 paid, 402 declined, 400 invalid card, 410 inactive, 404 no such link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio.to_thread
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from maya.money import format_amount
from maya.sandbox.payment import (
    INACTIVE_MESSAGE,
    NOT_FOUND_MESSAGE,
    PROCESSING_MESSAGE,
    PaymentResult,
    find_link,
    pay_link,
)
from maya.sandbox.store import SandboxStore
from maya.sandbox.webhooks import WebhookSender

__all__ = ["CARD_FIELD", "build_checkout_app", "build_checkout_routes"]

CARD_FIELD = "card_number"
"""Name of the checkout form's card number field."""

_STATUS = {
    "paid": 200,
    "processing": 202,
    "declined": 402,
    "invalid_card": 400,
    "inactive": 410,
    "not_found": 404,
}

_STYLE = """
body { font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; }
main { max-width: 26rem; margin: 3rem auto; background: #fff; padding: 2rem;
       border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,.08); }
.test { display: inline-block; background: #ffde92; color: #983705; font-size: .75rem;
        font-weight: 600; padding: .1rem .4rem; border-radius: 4px; }
.amount { font-size: 2rem; font-weight: 600; margin: .2rem 0 1rem; }
.error { color: #df1b41; } .ok { color: #0a7a3e; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { font-size: 1rem; padding: .6rem; margin: .3rem 0 1rem; }
button { font-size: 1rem; padding: .7rem; background: #635bff; color: #fff; border: 0;
         border-radius: 6px; }
.hint { font-size: .8rem; color: #697386; }
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Maya sandbox</title><style>{_STYLE}</style></head>"
        f'<body><main><p class="test">TEST MODE</p>{body}</main></body></html>\n'
    )
    return HTMLResponse(html, status_code=status)


def _summary(link: dict[str, Any]) -> tuple[str, str, str]:
    items = link["line_items"]["data"]
    description = ", ".join(item["description"] for item in items)
    total = format_amount(sum(item["amount_total"] for item in items), link["currency"])
    rows = "".join(
        f"<li>{item['quantity']} × {escape(item['description'])}: "
        f"{escape(format_amount(item['amount_total'], item['currency']))}</li>"
        for item in items
    )
    return description, total, f"<ul>{rows}</ul>"


def _checkout_page(
    link: dict[str, Any], *, error: str | None = None, card: str = "", status: int = 200
) -> HTMLResponse:
    description, total, rows = _summary(link)
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<h1>{escape(description)}</h1>"
        f'<p class="amount">{escape(total)}</p>{rows}{alert}'
        f'<form method="post" action="{escape(link["url"])}">'
        f'<label for="{CARD_FIELD}">Card number</label>'
        f'<input id="{CARD_FIELD}" name="{CARD_FIELD}" inputmode="numeric" '
        f'autocomplete="cc-number" placeholder="4242 4242 4242 4242" '
        f'value="{escape(card)}" required>'
        f'<button type="submit">Pay {escape(total)}</button></form>'
        '<p class="hint">Test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is '
        "declined; 4000 0000 0000 9995 has insufficient funds. SEPA test IBANs: "
        "DE89 3704 0044 0532 0130 00 pays a moment later, DE62 3704 0044 0532 0130 01 "
        "fails a moment later.</p>"
    )
    return _page(f"Pay {description}", body, status)


def _success_page(link: dict[str, Any]) -> HTMLResponse:
    description, total, _ = _summary(link)
    after = link["after_completion"]
    extra = ""
    if after.get("type") == "redirect":
        url = str(after.get("redirect", {}).get("url", ""))
        # Only web URLs become links: a javascript: URL in metadata must not run.
        if urlsplit(url).scheme in {"http", "https"}:
            extra = f'<p><a href="{escape(url)}">Continue</a></p>'
    else:
        message = (after.get("hosted_confirmation") or {}).get("custom_message")
        if message:
            extra = f"<p>{escape(str(message))}</p>"
    body = (
        f'<h1 class="ok">Payment complete</h1><p>{escape(total)} paid for '
        f"{escape(description)}.</p>{extra}"
    )
    return _page("Payment complete", body)


def _gone_page() -> HTMLResponse:
    return _page(INACTIVE_MESSAGE, f"<h1>{escape(INACTIVE_MESSAGE)}</h1>", 410)


def _missing_page() -> HTMLResponse:
    return _page(NOT_FOUND_MESSAGE, f"<h1>{escape(NOT_FOUND_MESSAGE)}</h1>", 404)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


ASYNC_DELAY_S = 2.0
"""How long an async debit (a SEPA test IBAN) takes to succeed or fail."""


async def _finish_later(
    store: SandboxStore,
    result: PaymentResult,
    webhooks: WebhookSender | None,
    delay: float,
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    """After a processing debit: report ``completed``/``unpaid``, wait, settle it, report that."""
    session = result.session
    assert session is not None and result.later is not None
    if webhooks is not None:
        await webhooks.emit(session, "checkout.session.completed")
    await sleep(delay)
    succeeded = result.later == "succeeded"
    finished = await anyio.to_thread.run_sync(
        lambda: store.finish_async_payment(session["id"], succeeded=succeeded)
    )
    if finished is not None and webhooks is not None:
        kind = "succeeded" if succeeded else "failed"
        await webhooks.emit(finished, f"checkout.session.async_payment_{kind}")


def _after(
    store: SandboxStore,
    result: PaymentResult,
    webhooks: WebhookSender | None,
    delay: float,
    sleep: Callable[[float], Awaitable[None]],
) -> BackgroundTask | None:
    """What a checkout outcome calls for once the page has answered (Stripe's order)."""
    if result.outcome == "processing":
        return BackgroundTask(_finish_later, store, result, webhooks, delay, sleep)
    if webhooks is None or result.session is None or result.session["status"] != "complete":
        return None
    return BackgroundTask(webhooks.emit, result.session, "checkout.session.completed")


def _processing_page(link: dict[str, Any]) -> HTMLResponse:
    description, total, _ = _summary(link)
    body = (
        f"<h1>Payment processing</h1><p>{escape(total)} for {escape(description)}: "
        f"{escape(PROCESSING_MESSAGE)}</p>"
    )
    return _page("Payment processing", body, 202)


def build_checkout_routes(
    store: SandboxStore,
    *,
    webhooks: WebhookSender | None = None,
    async_delay: float = ASYNC_DELAY_S,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> list[Route]:
    """The checkout routes (``/`` and ``/b/{slug}``), for mounting beside MCP.

    With ``webhooks``, a completed Checkout Session is reported as
    ``checkout.session.completed`` once the page has answered (as Stripe does, the
    event does not hold up the customer). A SEPA test IBAN completes the session
    ``unpaid``; ``async_delay`` seconds later (``sleep``) it succeeds or fails, reported
    as ``checkout.session.async_payment_succeeded`` or ``_failed``.
    """

    async def index(request: Request) -> Response:
        return _page("Checkout", "<h1>Maya sandbox checkout</h1><p>Open a payment link to pay.</p>")

    async def show(request: Request) -> Response:
        link = await anyio.to_thread.run_sync(find_link, store, request.url.path)
        if link is None:
            return _missing_page()
        if not link["active"]:
            return _gone_page()
        return _checkout_page(link)

    async def pay(request: Request) -> Response:
        body = (await request.body()).decode("utf-8", errors="replace")
        card = parse_qs(body).get(CARD_FIELD, [""])[0]
        url = request.url.path
        result: PaymentResult = await anyio.to_thread.run_sync(pay_link, store, url, card)
        status = _STATUS[result.outcome]
        event = _after(store, result, webhooks, async_delay, sleep)
        if _wants_json(request):
            return JSONResponse(
                result.model_dump(mode="json"), status_code=status, background=event
            )
        if result.outcome == "not_found":
            return _missing_page()
        if result.outcome == "inactive":
            return _gone_page()
        link = await anyio.to_thread.run_sync(find_link, store, url)
        assert link is not None  # the payment just found it, and links are never deleted
        if result.paid or result.outcome == "processing":
            page = _success_page(link) if result.paid else _processing_page(link)
            page.background = event
            return page
        return _checkout_page(link, error=result.message, card=card, status=status)

    return [
        Route("/", index, methods=["GET"]),
        Route("/b/{slug}", show, methods=["GET"]),
        Route("/b/{slug}", pay, methods=["POST"]),
    ]


def build_checkout_app(
    store: SandboxStore,
    *,
    webhooks: WebhookSender | None = None,
    async_delay: float = ASYNC_DELAY_S,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> Starlette:
    """A Starlette app serving only the checkout pages (stdio mode runs it on its own port)."""
    return Starlette(
        routes=build_checkout_routes(store, webhooks=webhooks, async_delay=async_delay, sleep=sleep)
    )
