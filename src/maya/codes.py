"""The one enum of error codes that every layer of Maya speaks, and which may be retried.

State, payments and tools raise these codes (in a ``maya.errors.MayaError``); the tools
layer turns each one into a message in Maya's voice (``prompts/messages.yaml``) and tells
the model, from ``ErrorCode.retryable``, whether calling again can succeed.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ErrorCode"]


class ErrorCode(StrEnum):
    """Why an operation was refused or failed."""

    # The tab
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    UNKNOWN_ITEM = "UNKNOWN_ITEM"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_MODIFIER = "INVALID_MODIFIER"
    INVALID_TIP_PERCENTAGE = "INVALID_TIP_PERCENTAGE"
    INVALID_SESSION_ID = "INVALID_SESSION_ID"
    NOTHING_TO_PAY = "NOTHING_TO_PAY"
    BILL_NOT_PAYABLE = "BILL_NOT_PAYABLE"
    """The bill (or an order that would make it so) is more than one card payment can take,
    or not in the steps its currency is charged in: no link could charge it."""
    PAYMENT_NOT_FOUND = "PAYMENT_NOT_FOUND"
    PAYMENT_SUPERSEDED = "PAYMENT_SUPERSEDED"
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
    NOTHING_TO_CANCEL = "NOTHING_TO_CANCEL"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    # Where tabs are kept
    STORE_BUSY = "STORE_BUSY"
    """The tab stayed locked (or a statement ran) past the store's timeout: try again."""
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    """The store cannot be used at all (closed, unreachable, refused the data)."""
    # Payments
    STRIPE_UNAVAILABLE = "STRIPE_UNAVAILABLE"
    PAYMENT_LINK_FAILED = "PAYMENT_LINK_FAILED"
    PAYMENT_STATUS_TIMEOUT = "PAYMENT_STATUS_TIMEOUT"
    PAYMENT_DECLINED = "PAYMENT_DECLINED"
    PAYMENT_STATUS_UNSUPPORTED = "PAYMENT_STATUS_UNSUPPORTED"
    LIVE_MODE_REFUSED = "LIVE_MODE_REFUSED"
    PAYMENT_CURRENCY_MISMATCH = "PAYMENT_CURRENCY_MISMATCH"
    """A payment came back in another currency than the tab's: it is not applied."""
    # The tool surface
    UNKNOWN_TOOL = "UNKNOWN_TOOL"
    INVALID_ARGUMENTS = "INVALID_ARGUMENTS"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    TOO_MANY_TOOL_CALLS = "TOO_MANY_TOOL_CALLS"
    """One model answer asked for more tool calls than the cap: none of them ran."""

    @property
    def retryable(self) -> bool:
        """Whether the model can fix its call (arguments, item name, a fresh link) or simply
        call again and succeed. Otherwise the error is terminal (the model must tell the
        customer: the money or the payment provider said no) or, for ``INTERNAL_ERROR``, a
        crash on our side."""
        return self in _RETRYABLE


# The one table deciding "retryable"; every other code is terminal.
_RETRYABLE: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.INVALID_ARGUMENTS,
        ErrorCode.TOO_MANY_TOOL_CALLS,
        ErrorCode.UNKNOWN_ITEM,
        ErrorCode.INVALID_QUANTITY,
        ErrorCode.INVALID_MODIFIER,
        ErrorCode.INVALID_TIP_PERCENTAGE,
        ErrorCode.PAYMENT_NOT_FOUND,
        ErrorCode.PAYMENT_SUPERSEDED,
        ErrorCode.CONCURRENT_UPDATE,
        ErrorCode.STORE_BUSY,
    }
)
