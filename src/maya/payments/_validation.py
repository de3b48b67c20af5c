"""Checking payment arguments before anything is sent; failures are never retried."""

from __future__ import annotations

import re
from collections.abc import Mapping

from maya.payments.dialects.base import LinkRequest
from maya.payments.errors import PaymentRequestInvalidError

__all__ = [
    "MAX_AMOUNT_CENTS",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_KEY_LENGTH",
    "validate_link_request",
    "validate_payment_id",
]

MAX_AMOUNT_CENTS = 99_999_999
"""Stripe's largest amount for a price: $999,999.99."""

MAX_DESCRIPTION_LENGTH = 250
"""Longest product name accepted."""

MAX_KEY_LENGTH = 255
"""Stripe's limit for an idempotency key."""

_CURRENCY = re.compile(r"^[a-z]{3}$")
_METADATA_KEYS = 40  # Stripe allows 50 keys; ours take a few.


def validate_link_request(
    amount_cents: object,
    description: object,
    idempotency_key: object,
    *,
    currency: str,
    metadata: Mapping[str, str] | None,
) -> LinkRequest:
    """Validate ``create_payment_link``'s arguments into a ``LinkRequest``.

    Raises:
        PaymentRequestInvalidError: an argument is the wrong type or out of range; the
            error's ``field`` names it.
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PaymentRequestInvalidError("must be an integer number of cents", field="amount_cents")
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise PaymentRequestInvalidError(
            f"must be between 1 and {MAX_AMOUNT_CENTS}", field="amount_cents"
        )
    if not isinstance(description, str) or not description.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="description")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise PaymentRequestInvalidError(
            f"must be at most {MAX_DESCRIPTION_LENGTH} characters", field="description"
        )
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="idempotency_key")
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise PaymentRequestInvalidError(
            f"must be at most {MAX_KEY_LENGTH} characters", field="idempotency_key"
        )
    if not _CURRENCY.match(currency):
        raise PaymentRequestInvalidError("must be a lower-case ISO code", field="currency")
    extra = dict(metadata or {})
    if len(extra) > _METADATA_KEYS or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
    ):
        raise PaymentRequestInvalidError(
            f"must map at most {_METADATA_KEYS} string keys to strings", field="metadata"
        )
    return LinkRequest(
        amount_cents=amount_cents,
        description=description.strip(),
        idempotency_key=idempotency_key,
        currency=currency,
        metadata=extra,
    )


def validate_payment_id(payment_id: object) -> str:
    """Validate a payment link id argument.

    Raises:
        PaymentRequestInvalidError: it is not a non-empty string.
    """
    if not isinstance(payment_id, str) or not payment_id.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="payment_id")
    return payment_id.strip()
