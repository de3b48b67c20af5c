"""The one enum of error codes that every layer of Maya speaks.

State, payments and tools raise or return these codes; the tools layer turns each one
into a message in Maya's voice (``prompts/messages.yaml``).
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
    # The tool surface
    UNKNOWN_TOOL = "UNKNOWN_TOOL"
    INVALID_ARGUMENTS = "INVALID_ARGUMENTS"
    INTERNAL_ERROR = "INTERNAL_ERROR"
