"""Stripe's test cards, and what each does at the sandbox's checkout.

Three card numbers and two SEPA test IBANs (payments that settle later) are recognised;
any other number is refused as invalid, as Stripe's checkout refuses what it cannot charge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ASYNC_FAILURE",
    "ASYNC_SUCCESS",
    "CARD_GENERIC_DECLINE",
    "CARD_INSUFFICIENT_FUNDS",
    "CARD_SUCCESS",
    "CardVerdict",
    "check_card",
]

CARD_SUCCESS = "4242424242424242"
"""Visa test card that always pays."""

CARD_GENERIC_DECLINE = "4000000000000002"
"""Declined with ``decline_code: generic_decline``."""

CARD_INSUFFICIENT_FUNDS = "4000000000009995"
"""Declined with ``decline_code: insufficient_funds``."""

_DECLINES = {
    CARD_GENERIC_DECLINE: ("generic_decline", "Your card was declined."),
    CARD_INSUFFICIENT_FUNDS: ("insufficient_funds", "Your card has insufficient funds."),
}

ASYNC_SUCCESS = "DE89370400440532013000"
"""Stripe's SEPA Direct Debit test IBAN that succeeds later: the session completes
``unpaid``, then ``checkout.session.async_payment_succeeded`` follows."""

ASYNC_FAILURE = "DE62370400440532013001"
"""Stripe's SEPA Direct Debit test IBAN that fails later: the session completes
``unpaid``, then ``checkout.session.async_payment_failed`` follows."""

_ASYNC = {ASYNC_SUCCESS: "succeeded", ASYNC_FAILURE: "failed"}

INVALID_NUMBER_MESSAGE = "Your card number is invalid."


@dataclass(frozen=True, slots=True)
class CardVerdict:
    """What charging a card would do.

    Attributes:
        result: ``paid``, ``declined``, ``invalid`` (not a card we can charge) or
            ``processing`` (a debit whose outcome comes later).
        message: Stripe's customer-facing text for a decline or an invalid number.
        decline_code: Stripe's decline code when declined.
        later: for ``processing``, how it will end: ``succeeded`` or ``failed``.
    """

    result: Literal["paid", "declined", "invalid", "processing"]
    message: str | None = None
    decline_code: str | None = None
    later: Literal["succeeded", "failed"] | None = None


def check_card(number: str) -> CardVerdict:
    """Judge a card number as typed: spaces and dashes between digits are fine."""
    digits = "".join(number.split()).replace("-", "").upper()
    if digits == CARD_SUCCESS:
        return CardVerdict("paid")
    if digits in _ASYNC:
        return CardVerdict(
            "processing", later="succeeded" if _ASYNC[digits] == "succeeded" else "failed"
        )
    if digits in _DECLINES:
        code, message = _DECLINES[digits]
        return CardVerdict("declined", message=message, decline_code=code)
    return CardVerdict("invalid", message=INVALID_NUMBER_MESSAGE)
