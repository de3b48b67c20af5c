"""Stripe's generic dialect: ``stripe_api_write`` / ``stripe_api_read`` by operation id.

Links carry ``metadata.idempotency_key``. MCP tools cannot send Stripe's
``Idempotency-Key`` header, so after an attempt that may have made the link (timeout,
lost session, garbled answer) the next attempt first looks for an active link with the
key (``GetPaymentLinks``) and returns it; the sandbox also dedupes on that metadata.
When the server refuses a link because its key was already used (``idempotency_error``,
e.g. another process made it with its own price), the existing link is returned if it
is for the same amount.
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
    StatusReading,
    ToolCaller,
    failure_from_error_reply,
    require_str,
)

__all__ = ["GenericDialect"]

WRITE_TOOL = "stripe_api_write"
READ_TOOL = "stripe_api_read"
# Stripe's maximum page size; more active links than this with one key cannot happen.
_PAGE_LIMIT = 100


class GenericDialect(Dialect):
    """Products, prices, links and Checkout Sessions through Stripe's API operations."""

    name: ClassVar[str] = "generic"
    required_tools: ClassVar[frozenset[str]] = frozenset({WRITE_TOOL, READ_TOOL})
    supports_status: ClassVar[bool] = True
    supports_deactivate: ClassVar[bool] = True

    async def create_link(
        self, call: ToolCaller, request: LinkRequest, progress: LinkProgress
    ) -> LinkCreated:
        """Product, then price, then the link with the idempotency key in its metadata.

        Raises:
            CallFailure: a call failed or its answer cannot be used.
        """
        key = request.idempotency_key
        if progress.link_maybe_created:
            found = await self.find_link(call, key, amount_cents=request.amount_cents)
            if found is not None:
                return found
        if progress.product_id is None:
            product = await _operation(
                call,
                WRITE_TOOL,
                "PostProducts",
                {"name": request.description, "metadata": {"idempotency_key": key}},
            )
            progress.product_id = require_str(product, "id", "PostProducts")
        if progress.price_id is None:
            price = await _operation(
                call,
                WRITE_TOOL,
                "PostPrices",
                {
                    "product": progress.product_id,
                    "unit_amount": request.amount_cents,
                    "currency": request.currency,
                },
            )
            progress.price_id = require_str(price, "id", "PostPrices")
        try:
            link = await _operation(
                call,
                WRITE_TOOL,
                "PostPaymentLinks",
                {
                    "line_items": [{"price": progress.price_id, "quantity": 1}],
                    "metadata": {**request.metadata, "idempotency_key": key},
                },
            )
            return _link(link, "PostPaymentLinks")
        except CallFailure as failure:
            if failure.ambiguous:
                progress.link_maybe_created = True
            if failure.stripe_type == "idempotency_error":
                found = await self.find_link(call, key, amount_cents=request.amount_cents)
                if found is not None:
                    return found
            raise

    async def find_link(
        self, call: ToolCaller, idempotency_key: str, *, amount_cents: int | None = None
    ) -> LinkCreated | None:
        """The active link made with ``idempotency_key`` (and for ``amount_cents``), if any.

        Raises:
            CallFailure: the listing failed.
        """
        page = await _operation(
            call, READ_TOOL, "GetPaymentLinks", {"active": True, "limit": _PAGE_LIMIT}
        )
        for link in _data(page, "GetPaymentLinks"):
            metadata = link.get("metadata")
            if not isinstance(metadata, dict) or metadata.get("idempotency_key") != idempotency_key:
                continue
            if amount_cents is None or _total(link) in (None, amount_cents):
                return _link(link, "GetPaymentLinks")
        return None

    async def deactivate(self, call: ToolCaller, payment_id: str) -> None:
        """``PostPaymentLinksPaymentLink`` with ``active: false``.

        Raises:
            CallFailure: the call failed, or the link is still active afterwards.
        """
        link = await _operation(
            call,
            WRITE_TOOL,
            "PostPaymentLinksPaymentLink",
            {"payment_link": payment_id, "active": False},
        )
        if link.get("active") is not False:
            raise CallFailure("malformed", "the link was not reported inactive")

    async def read_status(self, call: ToolCaller, payment_id: str) -> StatusReading:
        """Paid when a Checkout Session for the link is ``complete`` and ``paid``.

        Failed when none is paid and the newest session carries a decline
        (``last_payment_error``); pending otherwise.

        Raises:
            CallFailure: the call failed or its answer cannot be used.
        """
        page = await _operation(
            call,
            READ_TOOL,
            "GetCheckoutSessions",
            {"payment_link": payment_id, "limit": _PAGE_LIMIT},
        )
        sessions = _data(page, "GetCheckoutSessions")
        for session in sessions:
            if session.get("status") == "complete" and session.get("payment_status") == "paid":
                amount = session.get("amount_total")
                return StatusReading(
                    "succeeded", amount_paid_cents=amount if isinstance(amount, int) else None
                )
        latest_error = sessions[0].get("last_payment_error") if sessions else None
        if isinstance(latest_error, dict):
            reason = latest_error.get("decline_code") or latest_error.get("code") or "declined"
            return StatusReading("failed", failure_reason=str(reason))
        return StatusReading("pending")


async def _operation(
    call: ToolCaller, tool: str, operation: str, parameters: Mapping[str, Any]
) -> dict[str, Any]:
    reply = await call(
        tool, {"stripe_api_operation_id": operation, "parameters": dict(parameters)}, op=operation
    )
    if reply.is_error:
        raise failure_from_error_reply(reply, tool)
    body = reply.json()
    if not isinstance(body, dict):
        raise CallFailure("malformed", f"{operation} answered with non-JSON text", tool=tool)
    return body


def _link(body: Mapping[str, Any], what: str) -> LinkCreated:
    created = body.get("created")
    return LinkCreated(
        payment_id=require_str(body, "id", what),
        url=require_str(body, "url", what),
        created=created if isinstance(created, int) else None,
    )


def _total(link: Mapping[str, Any]) -> int | None:
    items = link.get("line_items")
    data = items.get("data") if isinstance(items, dict) else None
    if not isinstance(data, list):
        return None
    amounts = [item.get("amount_total") for item in data if isinstance(item, dict)]
    return sum(a for a in amounts if isinstance(a, int)) if amounts else None


def _data(page: Mapping[str, Any], what: str) -> list[dict[str, Any]]:
    data = page.get("data")
    if not isinstance(data, list):
        raise CallFailure("malformed", f"{what} answered without a data list")
    return [item for item in data if isinstance(item, dict)]
