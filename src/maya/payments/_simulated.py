"""Simulated payment links: test mode's answer when Stripe cannot be reached."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from maya.payments.dialects import LinkRequest
from maya.payments.results import PaymentLink, PaymentStatusResult

__all__ = ["SIMULATED_ID_PREFIX", "SIMULATED_URL_BASE", "is_simulated_id", "simulated_link"]

SIMULATED_ID_PREFIX = "sim_plink_"
"""Every simulated link id starts with this."""

SIMULATED_URL_BASE = "https://simulated.maya.invalid/pay/"
"""Every simulated link URL starts with this."""


def is_simulated_id(payment_id: str) -> bool:
    """Whether ``payment_id`` names a simulated link."""
    return payment_id.startswith(SIMULATED_ID_PREFIX)


def simulated_link(request: LinkRequest) -> PaymentLink:
    """A simulated link for ``request``; the same key always gives the same id."""
    digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
    payment_id = f"{SIMULATED_ID_PREFIX}{digest}"
    return PaymentLink(
        payment_id=payment_id,
        url=f"{SIMULATED_URL_BASE}{payment_id}",
        amount_cents=request.amount_cents,
        currency=request.currency,
        description=request.description,
        idempotency_key=request.idempotency_key,
        is_simulated=True,
        provider="simulated",
        created_at=datetime.now(UTC),
    )


def simulated_status(payment_id: str) -> PaymentStatusResult:
    """A simulated link's status: ``simulated``, since no money moved anywhere."""
    return PaymentStatusResult(
        payment_id=payment_id,
        status="simulated",
        is_simulated=True,
        provider="simulated",
        payments_received=1,
        polls=0,
    )
