"""Stripe's generic dialect: ``stripe_api_write`` / ``stripe_api_read`` by operation id.

A link is two calls (a price with its product inline, then the link keyed by
``metadata.idempotency_key``); after a write that may have acted, it looks before writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from maya.payments._failures import CallFailure
from maya.payments._session import ToolInfo, ToolReply
from maya.payments.dialects.base import (
    Dialect,
    LinkCreated,
    LinkProgress,
    LinkRequest,
    StatusReading,
    ToolCaller,
    failure_from_error_reply,
    failure_from_text,
    require_str,
)

__all__ = ["READ_TOOL", "WRITE_TOOL", "GenericDialect"]

WRITE_TOOL = "stripe_api_write"
READ_TOOL = "stripe_api_read"
# Stripe's maximum page size.
_PAGE_LIMIT = 100
# Pages of active links searched for an idempotency key before concluding it is absent.
_MAX_LOOKUP_PAGES = 5


class GenericDialect(Dialect):
    """Prices, links and Checkout Sessions through Stripe's API operations."""

    name: ClassVar[str] = "generic"
    required_tools: ClassVar[frozenset[str]] = frozenset({WRITE_TOOL, READ_TOOL})
    supports_status: ClassVar[bool] = True
    supports_deactivate: ClassVar[bool] = True
    supports_lookup: ClassVar[bool] = True

    def context_args(self) -> dict[str, Any]:
        """Arguments every operation call carries besides the operation (none here)."""
        return {}

    async def operation(
        self,
        call: ToolCaller,
        operation: str,
        parameters: Mapping[str, Any],
        *,
        write: bool,
        repeat_safe: bool | None = None,
    ) -> dict[str, Any]:
        """Run one Stripe API operation and return the Stripe object it answered.

        Args:
            call: Calls a tool.
            operation: Stripe's OpenAPI operation id.
            parameters: Path, query and body parameters together.
            write: Use ``stripe_api_write`` (else ``stripe_api_read``).
            repeat_safe: May the session re-send it after a lost session (default:
                reads only).

        Raises:
            CallFailure: the call failed, or answered with an error or non-JSON.
        """
        tool = WRITE_TOOL if write else READ_TOOL
        arguments = {
            "stripe_api_operation_id": operation,
            "parameters": dict(parameters),
            **self.context_args(),
        }
        reply = await call(
            tool,
            arguments,
            op=operation,
            repeat_safe=not write if repeat_safe is None else repeat_safe,
        )
        return self.read_reply(reply, tool, operation)

    def read_reply(self, reply: ToolReply, tool: str, operation: str) -> dict[str, Any]:
        """The Stripe object in ``reply``.

        Raises:
            CallFailure: an error answer, or one that is not a JSON object.
        """
        if reply.is_error:
            raise failure_from_error_reply(reply, tool)
        body = reply.json()
        if isinstance(body, dict):
            error = body.get("error")
            if isinstance(error, dict):
                # Some relays send Stripe's error body without isError.
                raise failure_from_error_reply(ToolReply(True, reply.text), tool)
            return body
        if reply.text.lstrip().lower().startswith(("stripe api error:", "operation ")):
            raise failure_from_text(reply.text, tool)
        raise CallFailure("malformed", f"{operation} answered with non-JSON text", tool=tool)

    async def create_link(
        self, call: ToolCaller, request: LinkRequest, progress: LinkProgress
    ) -> LinkCreated:
        """Price (with its product inline), then the link carrying the idempotency key.

        Raises:
            CallFailure: a call failed or its answer cannot be used.
        """
        key = request.idempotency_key
        if progress.link_maybe_created:
            found = await self.find_link(call, key, amount_cents=request.amount_cents)
            if found is not None:
                return found
            progress.link_maybe_created = False
        if progress.price_id is None:
            price = await self.operation(
                call,
                "PostPrices",
                {
                    "product_data": {
                        "name": request.description,
                        "metadata": {"idempotency_key": key},
                    },
                    "unit_amount": request.amount_cents,
                    "currency": request.currency,
                    "metadata": {"idempotency_key": key},
                },
                write=True,
            )
            progress.price_id = require_str(price, "id", "PostPrices")
        try:
            async with progress.sending():
                link = await self.operation(
                    call,
                    "PostPaymentLinks",
                    {
                        "line_items": [{"price": progress.price_id, "quantity": 1}],
                        "metadata": {**request.metadata, "idempotency_key": key},
                    },
                    write=True,
                )
            return _link(link, "PostPaymentLinks")
        except CallFailure as failure:
            if failure.maybe_acted:
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
        parameters: dict[str, Any] = {"active": True, "limit": _PAGE_LIMIT}
        for _ in range(_MAX_LOOKUP_PAGES):
            page = await self.operation(call, "GetPaymentLinks", parameters, write=False)
            links = _data(page, "GetPaymentLinks")
            for link in links:
                metadata = link.get("metadata")
                if not isinstance(metadata, dict):
                    continue
                if metadata.get("idempotency_key") != idempotency_key:
                    continue
                if amount_cents is None or _total(link) in (None, amount_cents):
                    return _link(link, "GetPaymentLinks")
            last_id = links[-1].get("id") if links else None
            if page.get("has_more") is not True or not isinstance(last_id, str):
                return None
            parameters = {**parameters, "starting_after": last_id}
        return None

    async def deactivate(self, call: ToolCaller, payment_id: str) -> None:
        """``PostPaymentLinksPaymentLink`` with ``active: false`` (safe to repeat).

        Raises:
            CallFailure: the call failed, or the link is still active afterwards.
        """
        link = await self.operation(
            call,
            "PostPaymentLinksPaymentLink",
            {"payment_link": payment_id, "active": False},
            write=True,
            repeat_safe=True,
        )
        if link.get("active") is not False:
            raise CallFailure("malformed", "the link was not reported inactive")

    async def read_status(self, call: ToolCaller, payment_id: str) -> StatusReading:
        """Paid when a Checkout Session for the link is ``complete`` and ``paid``.

        Every paid session is counted: a link paid twice reports ``paid_count`` 2 and
        the total. Failed when none is paid and the newest session carries a decline
        (``last_payment_error``); pending otherwise.

        Raises:
            CallFailure: the call failed or its answer cannot be used.
        """
        page = await self.operation(
            call,
            "GetCheckoutSessions",
            {"payment_link": payment_id, "limit": _PAGE_LIMIT},
            write=False,
        )
        sessions = _data(page, "GetCheckoutSessions")
        paid = [
            s
            for s in sessions
            if s.get("status") == "complete" and s.get("payment_status") == "paid"
        ]
        if paid:
            amounts = [s.get("amount_total") for s in paid]
            known = [a for a in amounts if isinstance(a, int) and not isinstance(a, bool)]
            first = amounts[-1]  # newest first: the last is the first payment
            currency = paid[-1].get("currency")
            return StatusReading(
                "succeeded",
                amount_paid_cents=first if isinstance(first, int) else None,
                paid_count=len(paid),
                total_paid_cents=sum(known) if len(known) == len(amounts) else None,
                currency=currency.lower() if isinstance(currency, str) else None,
            )
        latest_error = sessions[0].get("last_payment_error") if sessions else None
        if isinstance(latest_error, dict):
            reason = latest_error.get("decline_code") or latest_error.get("code") or "declined"
            return StatusReading("failed", failure_reason=str(reason))
        return StatusReading("pending")


def needs_context(schemas: Mapping[str, ToolInfo]) -> bool:
    """Whether the write tool's schema asks for ``stripe_context`` or ``livemode``."""
    write = schemas.get(WRITE_TOOL)
    if write is None:
        return False
    required = write.input_schema.get("required")
    return isinstance(required, list) and bool({"stripe_context", "livemode"} & set(required))


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
