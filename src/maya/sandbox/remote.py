"""Paying a sandbox payment link over HTTP, from another process.

It submits the checkout page's form as a browser would (asking for JSON back), so it
exercises the real page (``maya sandbox pay``, ``maya demo`` with a sandbox subprocess).
"""

from __future__ import annotations

import httpx
from pydantic import ValidationError

from maya.sandbox.checkout import CARD_FIELD
from maya.sandbox.payment import PaymentResult

__all__ = ["apay_url", "pay_url"]

_HEADERS = {"Accept": "application/json"}


def _parse(response: httpx.Response) -> PaymentResult:
    try:
        return PaymentResult.model_validate_json(response.content)
    except ValidationError as exc:
        raise ValueError(
            f"{response.request.url} answered HTTP {response.status_code}, not a checkout result"
        ) from exc


def pay_url(url: str, card: str, *, timeout: float = 10.0) -> PaymentResult:
    """Submit ``card`` on the checkout page at ``url``.

    Raises:
        httpx.HTTPError: the page could not be reached.
        ValueError: whatever answered is not the sandbox's checkout page.
    """
    response = httpx.post(url, data={CARD_FIELD: card}, headers=_HEADERS, timeout=timeout)
    return _parse(response)


async def apay_url(
    url: str, card: str, *, client: httpx.AsyncClient | None = None
) -> PaymentResult:
    """Async ``pay_url``; pass ``client`` to reuse a pool, set timeouts or use an ASGI transport.

    Raises:
        httpx.HTTPError: the page could not be reached.
        ValueError: whatever answered is not the sandbox's checkout page.
    """
    if client is not None:
        response = await client.post(url, data={CARD_FIELD: card}, headers=_HEADERS)
        return _parse(response)
    async with httpx.AsyncClient() as own:
        response = await own.post(url, data={CARD_FIELD: card}, headers=_HEADERS)
    return _parse(response)
