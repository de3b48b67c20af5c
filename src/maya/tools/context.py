"""What a tool handler works with: the tab manager, the payment gateway, the words.

``PaymentGateway`` is the structural protocol the tools need from a payments client
(``maya.payments.StripeMCPClient``, or any stand-in); it refuses by raising ``MayaError``.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import anyio

from maya.messages import MessageBook
from maya.state.manager import TabManager

__all__ = [
    "PaymentGateway",
    "PaymentLinkInfo",
    "PaymentStatusInfo",
    "ToolContext",
]


# -- What the tools need from a payments client, as a small structural protocol --------


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
        """True when the link was made up (no server answered, test mode): it can never
        be paid. A sandbox link is not simulated; its ``provider`` says ``sandbox``."""
        ...


class PaymentStatusInfo(Protocol):
    """Where a payment link's payment stands."""

    @property
    def status(self) -> str:
        """``pending``, ``succeeded``, ``failed``, ``timeout``, or ``simulated`` (a made-up
        link's answer: no money moved)."""
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
        self,
        amount_cents: int,
        description: str,
        idempotency_key: str,
        *,
        currency: str,
        look_first: bool = False,
        before_write: Callable[[float], Awaitable[None]] | None = None,
    ) -> PaymentLinkInfo:
        """Make a link charging ``amount_cents`` in ``currency``'s minor unit, carrying
        ``idempotency_key``.

        With ``look_first`` (a write for this key may have reached the provider), the
        link made with that key is looked up and returned before anything is written.
        ``before_write(seconds)`` is awaited right before each link write is sent, with
        how long the write may stay in flight; if it raises, the write is not sent and
        the exception propagates. A failure says whether a link may have been made in
        its ``link_maybe_created`` attribute (True, False, or None/absent: unknown).
        """
        ...

    async def deactivate_payment_link(self, payment_id: str) -> object:
        """Make a link unpayable; ``False`` (or raising) means it could not."""
        ...

    async def check_payment_status(self, payment_id: str) -> PaymentStatusInfo:
        """Whether the link has been paid."""
        ...


@dataclass(slots=True, eq=False)
class ToolContext:
    """Everything the handlers share; one per ``Toolset``.

    Attributes:
        manager: the tab's atomic operations.
        payments: the payment gateway, or None when card payment is not available.
        messages: Maya's words for errors and payment outcomes.
        sleep: Waits while another process's payment-link write is in flight; tests
            pass a fake.
    """

    manager: TabManager
    payments: PaymentGateway | None
    messages: MessageBook
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    _payment_locks: weakref.WeakValueDictionary[str, anyio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    def payment_lock(self, session_id: str) -> anyio.Lock:
        """The lock that makes payment-link creation single-flight for one session.

        Locks live only while someone holds or waits on them, so idle sessions cost
        nothing.
        """
        lock = self._payment_locks.get(session_id)
        if lock is None:
            lock = anyio.Lock()
            self._payment_locks[session_id] = lock
        return lock
