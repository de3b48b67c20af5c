"""What the tools need from a payments client, as a small structural protocol.

``maya.payments.StripeMCPClient`` satisfies it; so can anything else with these methods
(an offline stand-in for a demo, a fast fake for fuzzing non-payment behaviour). A
gateway reports a refusal by raising an exception that carries an ``ErrorCode`` in its
``code`` attribute, as ``maya.payments.StripeMCPError`` does.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["PaymentGateway", "PaymentLinkInfo", "PaymentStatusInfo"]


class PaymentLinkInfo(Protocol):
    """A payment link the gateway made."""

    @property
    def payment_id(self) -> str:
        """The provider's id for the link."""
        ...

    @property
    def url(self) -> str:
        """Where the customer pays."""
        ...

    @property
    def amount_cents(self) -> int:
        """What the link charges."""
        ...

    @property
    def is_simulated(self) -> bool:
        """True when no real provider is behind the link (sandbox or offline)."""
        ...


class PaymentStatusInfo(Protocol):
    """Where a payment link's payment stands."""

    @property
    def status(self) -> str:
        """``pending``, ``succeeded``, ``failed`` or ``timeout``."""
        ...

    @property
    def amount_paid_cents(self) -> int | None:
        """What was paid, once ``succeeded``."""
        ...

    @property
    def failure_reason(self) -> str | None:
        """Why it ``failed``, e.g. ``generic_decline`` or ``insufficient_funds``."""
        ...


class PaymentGateway(Protocol):
    """The payment operations the tools call."""

    async def create_payment_link(
        self, amount_cents: int, description: str, idempotency_key: str
    ) -> PaymentLinkInfo:
        """Make (or, for a known idempotency key, return) a link charging ``amount_cents``."""
        ...

    async def deactivate_payment_link(self, payment_id: str) -> object:
        """Make a link unpayable; ``False`` (or raising) means it could not."""
        ...

    async def check_payment_status(self, payment_id: str) -> PaymentStatusInfo:
        """Whether the link has been paid."""
        ...
