"""What ``StripeMCPClient`` returns: Maya's own types, never an MCP or Stripe object."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CheckOutcome", "PaymentLink", "PaymentStatusResult", "Provider", "StripeMode"]

StripeMode = Literal["test", "live"]
"""Which Stripe the configured key talks to; the sandbox is always ``test``."""

CheckOutcome = Literal["pending", "succeeded", "failed", "timeout", "simulated"]
"""What one status check of a payment link found at Stripe. Not the tab's record of the
payment (``maya.state.PaymentStatus``: none, pending, completed, failed): a ``succeeded``
check is applied to the tab, which then says ``completed``. ``simulated`` is a made-up
link's answer: no money moved, so it is never ``succeeded``."""

Provider = Literal["stripe", "sandbox", "simulated"]
"""Where a link lives: Stripe itself, the local sandbox (Stripe's offline stand-in), or
nowhere (``simulated``: made up because no server answered, in test mode)."""


class PaymentLink(BaseModel):
    """A payment link for one amount, made once per idempotency key.

    Attributes:
        payment_id: Stripe's link id (``plink_...``), or ``sim_plink_...`` when simulated.
        url: Where the customer pays.
        amount_cents: The amount asked for, in cents.
        currency: Lower-case ISO currency code.
        description: What the customer sees as the product name.
        idempotency_key: The key the link was made with.
        is_simulated: True when no server was reachable and test mode made one up.
        provider: ``stripe``, ``sandbox`` or ``simulated``.
        created_at: When Stripe made it, if Stripe said.
    """

    model_config = ConfigDict(frozen=True)

    payment_id: str
    url: str
    amount_cents: int
    currency: str
    description: str
    idempotency_key: str
    is_simulated: bool = False
    provider: Provider = "stripe"
    created_at: datetime | None = None


class PaymentStatusResult(BaseModel):
    """The answer to "has this link been paid?".

    Attributes:
        payment_id: The link asked about.
        status: ``succeeded`` or ``failed`` (final), ``pending``, or ``timeout`` when
            polling ran out of time with the payment still pending; ``simulated`` for a
            simulated link (no money moved).
        amount_paid_cents: What was paid, once it succeeded.
        failure_reason: Stripe's decline code (``generic_decline``) when it failed.
        is_simulated: True for a simulated link (test mode only): no money moved.
        payments_received: How many payments the link received; more than one means
            the customer paid it again (an overpayment to refund).
        amount_received_cents: What all of them paid together, when known.
        polls: How many status reads were made.
        provider: ``stripe``, ``sandbox`` or ``simulated``.
        currency: The currency the payment was made in, when Stripe said.
    """

    model_config = ConfigDict(frozen=True)

    payment_id: str
    status: CheckOutcome
    amount_paid_cents: int | None = None
    failure_reason: str | None = None
    is_simulated: bool = False
    payments_received: int = Field(default=0, ge=0)
    amount_received_cents: int | None = None
    polls: int = Field(default=0, ge=0)
    provider: Provider = "stripe"
    currency: str | None = None
