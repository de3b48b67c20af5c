"""A scriptable payment gateway for the tools' unit tests and fuzzing.

It stands in for the payments client only where the tools' own behaviour is under test
(locking, supersession, error mapping, fuzzing); the end-to-end flow runs the real
``StripeMCPClient`` against the real sandbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from maya.codes import ErrorCode
from maya.payments.errors import StripeMCPError

__all__ = ["GatewayRefused", "Link", "ScriptedGateway", "Status"]


@dataclass(frozen=True)
class Link:
    """What a gateway returns for a new link."""

    payment_id: str
    url: str
    amount_cents: int
    is_simulated: bool = False


@dataclass(frozen=True)
class Status:
    """What a gateway returns for a status check."""

    status: str
    amount_paid_cents: int | None = None
    failure_reason: str | None = None


class GatewayRefused(StripeMCPError):
    """A coded refusal from the payments layer, with any ``ErrorCode``."""

    def __init__(self, code: ErrorCode, message: str = "refused") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class ScriptedGateway:
    """An in-test payment gateway: links by idempotency key, scripted statuses and failures."""

    links: dict[str, Link] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    statuses: dict[str, Status] = field(default_factory=dict)
    fail_create: BaseException | None = None
    fail_status: BaseException | None = None
    fail_deactivate: BaseException | None = None
    fail_after_mark: BaseException | None = None
    """Raised after ``before_write`` ran (the write was sent), once."""
    made_before_failing: bool = False
    """With ``fail_after_mark``: the write made its link all the same (the lost reply)."""
    amount_skew_cents: int = 0

    def set_status(
        self,
        payment_id: str,
        status: str,
        *,
        amount_paid_cents: int | None = None,
        failure_reason: str | None = None,
    ) -> None:
        """Script what the next status checks of ``payment_id`` report."""
        self.statuses[payment_id] = Status(status, amount_paid_cents, failure_reason)

    def fail(self, operation: str, error: BaseException | ErrorCode | None) -> None:
        """Make ``create``, ``status`` or ``deactivate`` raise (a code becomes a refusal)."""
        exc = GatewayRefused(error) if isinstance(error, ErrorCode) else error
        setattr(self, f"fail_{operation}", exc)

    async def create_payment_link(
        self,
        amount_cents: int,
        description: str,
        idempotency_key: str,
        *,
        currency: str = "usd",
        look_first: bool = False,
        before_write: Callable[[float], Awaitable[None]] | None = None,
    ) -> Link:
        if self.fail_create is not None:
            raise self.fail_create
        if look_first and idempotency_key in self.links:
            return self.links[idempotency_key]  # found by its key, as Stripe's list finds it
        if before_write is not None:
            await before_write(5.0)
        failure, self.fail_after_mark = self.fail_after_mark, None
        if failure is not None and not self.made_before_failing:
            raise failure
        # Like Stripe: every write makes a link, whatever its key.
        n = len(self.created) + 1
        link = Link(
            f"plink_{n}", f"https://buy.stripe.com/test_{n}", amount_cents + self.amount_skew_cents
        )
        self.links[idempotency_key] = link
        self.created.append(link.payment_id)
        if failure is not None:
            raise failure
        return link

    async def deactivate_payment_link(self, payment_id: str) -> None:
        if self.fail_deactivate is not None:
            raise self.fail_deactivate
        self.deactivated.append(payment_id)

    async def check_payment_status(self, payment_id: str) -> Status:
        if self.fail_status is not None:
            raise self.fail_status
        return self.statuses.get(payment_id, Status("pending"))
