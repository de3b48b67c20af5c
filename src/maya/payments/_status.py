"""What a status check that ended without a final answer means: which error, or pending."""

from __future__ import annotations

from maya.payments._failures import CallFailure
from maya.payments._session import StartingError
from maya.payments.dialects import StatusReading
from maya.payments.errors import (
    PaymentNotFoundError,
    PaymentStatusTimeoutError,
    PaymentStatusUnsupportedError,
    StripeMCPError,
    StripeUnavailableError,
)

__all__ = ["poll_again", "status_error", "status_timeout", "still_open"]


def _ends_at_once(failure: CallFailure) -> bool:
    return failure.stripe_code in ("resource_missing", "operation_unavailable") or (
        failure.kind == "connect" and not isinstance(failure, StartingError)
    )


def poll_again(exc: BaseException) -> bool:
    """Whether a failed read is worth another poll (the others end the check)."""
    return isinstance(exc, CallFailure) and not _ends_at_once(exc)


def still_open(reading: StatusReading) -> bool:
    """Whether the link is still unpaid, so worth another poll."""
    return reading.status == "pending"


def status_timeout(
    *, server: str, attempts: int, elapsed: float, last: CallFailure | None, seconds: float
) -> PaymentStatusTimeoutError:
    """No read got an answer before the deadline: the one case that reads as ``timeout``."""
    return PaymentStatusTimeoutError(
        "no status read succeeded before the deadline",
        server=server,
        attempts=attempts,
        elapsed=elapsed,
        last_error=last.describe() if last else f"no answer within {seconds:.1f}s",
    )


def status_error(
    failure: CallFailure,
    *,
    payment_id: str,
    server: str,
    attempts: int,
    elapsed: float,
    answered: bool,
    last: CallFailure | None,
    seconds: float,
) -> StripeMCPError | None:
    """The error a check that ended with ``failure`` raises; None when Stripe answered
    earlier (the link is still open: ``pending``, which is an answer)."""
    if failure.stripe_code == "resource_missing":
        return PaymentNotFoundError(f"Stripe has no payment link {payment_id}", server=server)
    if failure.stripe_code == "operation_unavailable":
        return PaymentStatusUnsupportedError(failure.summary, server=server)
    if _ends_at_once(failure):
        # The server is down and will not be restarted in this window:
        # say so now rather than polling a corpse until the deadline.
        return StripeUnavailableError(
            "Stripe's MCP server is unavailable",
            server=server,
            attempts=attempts,
            elapsed=elapsed,
            last_error=failure.describe(),
        )
    if answered:
        return None
    return status_timeout(
        server=server, attempts=attempts, elapsed=elapsed, last=last, seconds=seconds
    )
