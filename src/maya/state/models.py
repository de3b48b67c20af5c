"""The tab of one session, as immutable values.

A ``TabState`` is never edited in place: the transitions in ``transitions.py`` return a
new one, and a store persists it atomically. Amounts are integer cents.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from maya.money import Cents, charge_step, percent_of

__all__ = [
    "STARTING_BALANCE_CENTS",
    "TIP_PERCENTAGES",
    "OrderedItem",
    "PaymentRecord",
    "PaymentSnapshot",
    "PaymentStatus",
    "TabState",
    "TipPercent",
]

STARTING_BALANCE_CENTS: Cents = 100_000
"""A new session's balance: $1,000.00."""

TipPercent = Literal[10, 15, 20]
TIP_PERCENTAGES: tuple[int, ...] = (10, 15, 20)

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class PaymentStatus(StrEnum):
    """Where the tab's current payment stands (the tab's record). What a status check
    found at Stripe is another vocabulary: ``maya.payments.CheckOutcome``."""

    NONE = "none"
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class OrderedItem(BaseModel):
    """One accepted order line on the tab."""

    model_config = _FROZEN

    seq: int = Field(description="Position in the session's order history; never reused.")
    name: str
    unit_price_cents: Cents
    quantity: int
    modifiers: tuple[str, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def line_cents(self) -> Cents:
        """What this line costs: unit price x quantity."""
        return self.unit_price_cents * self.quantity


class PaymentSnapshot(BaseModel):
    """Exactly what one payment link charges, frozen when the customer asked to pay."""

    model_config = _FROZEN

    tab_cents: Cents
    tip_percent: TipPercent | None
    tip_cents: Cents
    last_item_seq: int = Field(description="Items with seq <= this are what the link pays.")
    version: int = Field(description="The state version the snapshot was taken at.")
    created_at: int = Field(description="Unix time of the snapshot, in seconds.")
    shortfall_cents: Cents = Field(
        default=0, description="What earlier short payments left owed, charged on top."
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def amount_cents(self) -> Cents:
        """What the link charges: tab + tip (+ any shortfall owed) at snapshot time."""
        return self.tab_cents + self.tip_cents + self.shortfall_cents


class PaymentRecord(BaseModel):
    """One payment link made for a session, current or superseded."""

    model_config = _FROZEN

    idempotency_key: str
    snapshot: PaymentSnapshot
    payment_id: str | None = None
    url: str | None = None
    is_simulated: bool = False
    status: PaymentStatus = PaymentStatus.PENDING
    superseded: bool = False
    amount_paid_cents: Cents | None = None
    link_closed: bool = Field(
        default=False, description="The link was deactivated at Stripe: it takes no more money."
    )
    link_write_until: float | None = Field(
        default=None,
        description=(
            "Set, in a committed transaction, before a payment-link write is sent for this "
            "record: a write may have reached Stripe, so whoever finds it without a real link "
            "looks the link up by its idempotency key before writing. Until this Unix time "
            "that write may still be in flight (no one else writes); ended or crashed "
            "writes leave it in the past."
        ),
    )

    @property
    def settled(self) -> bool:
        """True once this payment's money has been applied to the tab."""
        return self.status is PaymentStatus.COMPLETED

    @property
    def open_but_not_owed(self) -> bool:
        """A superseded, unpaid link still open at Stripe: whatever it collects is credit
        to refund, since nothing it charges is owed any more."""
        return (
            self.superseded
            and not self.settled
            and self.payment_id is not None
            and not self.link_closed
        )

    @property
    def has_real_link(self) -> bool:
        """True once a link from the payment provider (not a simulated one) is recorded."""
        return self.payment_id is not None and not self.is_simulated

    @property
    def link_write_sent(self) -> bool:
        """True when a link write may have been sent: look the link up before writing."""
        return self.link_write_until is not None


class TabState(BaseModel):
    """One customer's session: balance, tab, tip and payments."""

    model_config = _FROZEN

    session_id: str
    currency: str = Field(
        default="usd", description="ISO 4217 code, lowercase: amounts are in its minor unit."
    )
    balance_cents: Cents = STARTING_BALANCE_CENTS
    tab_cents: Cents = 0
    items: tuple[OrderedItem, ...] = ()
    next_item_seq: int = 1
    tip_percent: TipPercent | None = None
    credit_cents: Cents = Field(
        default=0, description="Money paid beyond what was owed (a superseded link paid too)."
    )
    needs_reconciliation: bool = False
    shortfall_cents: Cents = Field(
        default=0, description="What a payment short of its link's amount left owed."
    )
    payments: tuple[PaymentRecord, ...] = Field(
        default=(), description="Every payment link made for this session, oldest first."
    )
    version: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tip_cents(self) -> Cents:
        """The tip: tab x percentage, rounded half-up to the minor unit (to ten of them in
        the three-decimal currencies, which card payments charge only in those steps)."""
        if self.tip_percent is None:
            return 0
        return percent_of(self.tab_cents, self.tip_percent, charge_step(self.currency))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_due_cents(self) -> Cents:
        """What the customer owes now: tab + tip + any shortfall of a short payment."""
        return self.tab_cents + self.tip_cents + self.shortfall_cents

    @property
    def current_payment(self) -> PaymentRecord | None:
        """The newest payment that is not superseded, if any."""
        for record in reversed(self.payments):
            if not record.superseded:
                return record
        return None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def payment_status(self) -> PaymentStatus:
        """Status of the current payment (``none`` when there is none)."""
        current = self.current_payment
        return PaymentStatus.NONE if current is None else current.status

    @property
    def stale_links(self) -> tuple[PaymentRecord, ...]:
        """Links still open at Stripe for what is no longer owed (``open_but_not_owed``)."""
        return tuple(r for r in self.payments if r.open_but_not_owed)

    def find_payment(self, payment_id: str) -> PaymentRecord | None:
        """The payment with this Stripe id, if it belongs to this session."""
        for record in self.payments:
            if record.payment_id == payment_id:
                return record
        return None
