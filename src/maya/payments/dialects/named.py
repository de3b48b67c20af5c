"""Stripe's older named dialect: ``create_product``, ``create_price``, ``create_payment_link``.

No metadata, no idempotency argument, no status, no deactivation: a link write is never
repeated after an ambiguous failure, since the link could not be found again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from maya.payments._failures import CallFailure
from maya.payments.dialects.base import (
    Dialect,
    LinkCreated,
    LinkProgress,
    LinkRequest,
    ToolCaller,
    failure_from_error_reply,
    is_failure_sentence,
    require_str,
)

__all__ = ["NamedDialect"]

_PRODUCT = "create_product"
_PRICE = "create_price"
_LINK = "create_payment_link"


class NamedDialect(Dialect):
    """One tool per object; links only, no status, no deactivation."""

    name: ClassVar[str] = "named"
    required_tools: ClassVar[frozenset[str]] = frozenset({_PRODUCT, _PRICE, _LINK})

    async def create_link(
        self, call: ToolCaller, request: LinkRequest, progress: LinkProgress
    ) -> LinkCreated:
        """Product, then price, then link; the link step is not repeat-safe.

        Raises:
            CallFailure: a call failed, or answered with text instead of the object.
        """
        if progress.product_id is None:
            product = await _tool(call, _PRODUCT, {"name": request.description}, ("id",))
            progress.product_id = require_str(product, "id", _PRODUCT)
        if progress.price_id is None:
            price = await _tool(
                call,
                _PRICE,
                {
                    "product": progress.product_id,
                    "unit_amount": request.amount_cents,
                    "currency": request.currency,
                },
                ("id",),
            )
            progress.price_id = require_str(price, "id", _PRICE)
        async with progress.sending():
            link = await _tool(
                call,
                _LINK,
                {"price": progress.price_id, "quantity": 1},
                ("id", "url"),
                repeat_safe=False,
            )
        return LinkCreated(
            payment_id=require_str(link, "id", _LINK, repeat_safe=False),
            url=require_str(link, "url", _LINK, repeat_safe=False),
        )


async def _tool(
    call: ToolCaller,
    tool: str,
    arguments: Mapping[str, Any],
    fields: tuple[str, ...],
    *,
    repeat_safe: bool = True,
) -> dict[str, Any]:
    try:
        # Every named tool writes: the session never re-sends one.
        reply = await call(tool, arguments, repeat_safe=False)
    except CallFailure as failure:
        raise failure.with_repeat_safe(repeat_safe) from None
    if reply.is_error:
        raise failure_from_error_reply(reply, tool, repeat_safe=repeat_safe)
    body = reply.json()
    if not isinstance(body, dict):
        text = body if isinstance(body, str) else reply.text
        if is_failure_sentence(text):
            # The tool caught Stripe's error and made nothing: safe to try again.
            raise CallFailure("server", text.strip()[:200], tool=tool, repeat_safe=repeat_safe)
        raise CallFailure(
            "malformed", f"{tool} answered with non-JSON text", tool=tool, repeat_safe=repeat_safe
        )
    for field in fields:
        require_str(body, field, tool, repeat_safe=repeat_safe)
    return body
