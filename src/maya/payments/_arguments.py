"""Checking a payment call's arguments before anything is sent; failures never retry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from maya.money import MAX_CHARGE, charge_step
from maya.payments.dialects import LinkRequest
from maya.payments.errors import PaymentRequestInvalidError

__all__ = [
    "MAX_AMOUNT_CENTS",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_KEY_LENGTH",
    "validate_link_request",
    "validate_payment_id",
]

MAX_AMOUNT_CENTS = MAX_CHARGE
"""Stripe's largest amount for a price: $999,999.99 (``maya.money.MAX_CHARGE``)."""

MAX_DESCRIPTION_LENGTH = 250
"""Longest product name accepted."""

MAX_KEY_LENGTH = 255
"""Stripe's limit for an idempotency key."""

_METADATA_KEYS = 40  # Stripe allows 50 keys; ours take a few.

_Text = Annotated[StrictStr, Field(min_length=1, pattern=r"\S")]


class _LinkArguments(BaseModel):
    """``create_payment_link``'s arguments; each field's message is the error's."""

    model_config = ConfigDict(frozen=True)

    amount_cents: Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT_CENTS)]
    description: Annotated[_Text, Field(max_length=MAX_DESCRIPTION_LENGTH)]
    idempotency_key: Annotated[_Text, Field(max_length=MAX_KEY_LENGTH)]
    currency: Annotated[StrictStr, Field(pattern=r"^[a-z]{3}$")]
    metadata: Annotated[dict[StrictStr, StrictStr], Field(max_length=_METADATA_KEYS)]

    @model_validator(mode="after")
    def _three_decimals_end_in_zero(self) -> _LinkArguments:
        # Stripe takes three-decimal amounts only when they end in 0.
        if self.amount_cents % charge_step(self.currency):
            raise ValueError("amount_cents")
        return self


_MESSAGES = {
    "amount_cents": f"must be an integer number of cents between 1 and {MAX_AMOUNT_CENTS}",
    "description": f"must be a non-empty string of at most {MAX_DESCRIPTION_LENGTH} characters",
    "idempotency_key": f"must be a non-empty string of at most {MAX_KEY_LENGTH} characters",
    "currency": "must be a lower-case ISO code",
    "metadata": f"must map at most {_METADATA_KEYS} string keys to strings",
}


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
    raw: dict[str, Any] = {
        "amount_cents": amount_cents,
        "description": description,
        "idempotency_key": idempotency_key,
        "currency": currency,
        "metadata": dict(metadata or {}),
    }
    try:
        checked = _LinkArguments.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # the model's own check: three decimals end in zero
            field = "amount_cents"
            message = f"must be a multiple of 10 in {currency.upper()}"
        else:
            field = str(error["loc"][0])
            message = _MESSAGES[field]
        raise PaymentRequestInvalidError(message, field=field) from None
    return LinkRequest(
        amount_cents=checked.amount_cents,
        description=checked.description.strip(),
        idempotency_key=checked.idempotency_key,
        currency=checked.currency,
        metadata=checked.metadata,
    )


def validate_payment_id(payment_id: object) -> str:
    """Validate a payment link id argument.

    Raises:
        PaymentRequestInvalidError: it is not a non-empty string.
    """
    if not isinstance(payment_id, str) or not payment_id.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="payment_id")
    return payment_id.strip()
