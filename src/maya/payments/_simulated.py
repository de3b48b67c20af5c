"""Simulated payment links: test mode's answer when Stripe cannot be reached, and the
errors raised instead whenever a write may have acted (or in live mode)."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from maya.payments._failures import CallFailure
from maya.payments.dialects import LinkRequest
from maya.payments.errors import (
    PaymentLinkCreationError,
    StripeAccountError,
    StripeSchemaError,
    StripeUnavailableError,
)
from maya.payments.results import PaymentLink, PaymentStatusResult, StripeMode

__all__ = [
    "SIMULATED_ID_PREFIX",
    "SIMULATED_URL_BASE",
    "failed_link",
    "is_simulated_id",
    "simulated_link",
    "simulated_status",
    "unreachable_link",
]

_log = logging.getLogger("maya.payments")

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


def unreachable_link(
    request: LinkRequest,
    *,
    mode: StripeMode,
    server: str,
    reason: str,
    elapsed: float,
    maybe_created: bool,
) -> PaymentLink:
    """No server to ask: a simulated link in test mode when no earlier write may have
    made one (it could stand beside a real, payable one); else ``StripeUnavailableError``."""
    if mode == "test" and not maybe_created:
        _log.warning(
            "payments: server=%s unavailable (%s); simulated link in test mode", server, reason
        )
        return simulated_link(request)
    raise StripeUnavailableError(
        "Stripe's MCP server is unavailable"
        + (" to look the payment link up" if maybe_created else ""),
        server=server,
        elapsed=elapsed,
        last_error=reason,
        link_maybe_created=maybe_created,
    )


def failed_link(
    request: LinkRequest,
    failure: CallFailure,
    *,
    mode: StripeMode,
    server: str,
    attempts: int,
    elapsed: float,
    maybe_created: bool,
) -> PaymentLink:
    """What a link write that failed for good means: the error that says why, or (test
    mode, transient trouble, no write that may have acted) a simulated link."""
    details: dict[str, Any] = {
        "server": server,
        "attempts": attempts,
        "elapsed": elapsed,
        "last_error": failure.describe(),
        "link_maybe_created": maybe_created,
    }
    if failure.kind == "schema":
        raise StripeSchemaError(
            "Stripe's MCP tools no longer accept Maya's call", tool=failure.tool, **details
        )
    if failure.stripe_code in ("account_missing", "account_ambiguous"):
        raise StripeAccountError("no Stripe account to act on", **details)
    if failure.kind == "rejected":
        raise PaymentLinkCreationError("Stripe refused to create the payment link", **details)
    if maybe_created:
        # A simulated link now could stand beside a real, payable one.
        raise PaymentLinkCreationError(
            "the payment link may have been made; ask again to look it up", **details
        )
    if mode == "test":
        _log.warning(
            "payments: server=%s attempts=%d failed (%s); simulated link in test mode",
            server,
            attempts,
            failure.describe(),
        )
        return simulated_link(request)
    if failure.kind == "connect":
        raise StripeUnavailableError("Stripe's MCP server could not be reached", **details)
    raise PaymentLinkCreationError("the payment link could not be created", **details)
