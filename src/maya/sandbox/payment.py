"""Paying a payment link with a test card, in-process: what the checkout form does.

``pay_link`` is shared by the checkout page's POST, ``maya sandbox pay`` and ``maya demo``;
it blocks on SQLite briefly, so async code calls it through ``anyio.to_thread``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from maya.sandbox.cards import check_card
from maya.sandbox.errors import StripeError
from maya.sandbox.store import LINK_PATH_PREFIX, PaymentAttempt, SandboxStore

__all__ = ["PaymentOutcome", "PaymentResult", "find_link", "pay_link"]

PaymentOutcome = Literal["paid", "processing", "declined", "invalid_card", "inactive", "not_found"]
"""How a payment attempt ended."""

INACTIVE_MESSAGE = "This link is no longer active."
NOT_FOUND_MESSAGE = "This payment link does not exist."
PAID_MESSAGE = "Payment complete."
PROCESSING_MESSAGE = "Your payment is processing: it will be confirmed shortly."


class PaymentResult(BaseModel):
    """The result of trying a card on a payment link.

    Attributes:
        outcome: How it ended.
        message: What the checkout page tells the customer.
        decline_code: Stripe's decline code when the card was declined.
        payment_link: The link's id, when the link exists.
        session: The Checkout Session after the attempt (None when the attempt never
            reached one: unknown or inactive link, invalid number).
        later: For ``processing``: how the debit will end, ``succeeded`` or ``failed``.
    """

    model_config = ConfigDict(frozen=True)

    outcome: PaymentOutcome
    message: str
    decline_code: str | None = None
    payment_link: str | None = None
    session: dict[str, Any] | None = None
    later: Literal["succeeded", "failed"] | None = None

    @property
    def paid(self) -> bool:
        """Whether the card was charged."""
        return self.outcome == "paid"


def find_link(store: SandboxStore, url_or_id: str) -> dict[str, Any] | None:
    """The payment link named by its id (``plink_...``), its URL on any host, or its path.

    Returns:
        The stored link (``url`` relative), or None when nothing matches.
    """
    text = url_or_id.strip()
    if text.startswith("plink_"):
        return store.get_payment_link(text)
    path = urlsplit(text).path.rstrip("/")
    marker = path.rfind(LINK_PATH_PREFIX)
    if marker >= 0:
        token = path[marker + len(LINK_PATH_PREFIX) :]
    elif path.startswith("test_"):
        token = path.removeprefix("test_")
    else:
        return None
    return store.find_payment_link(token) if token else None


def pay_link(store: SandboxStore, url_or_id: str, card: str) -> PaymentResult:
    """Try ``card`` on the payment link, exactly as submitting its checkout form would.

    Args:
        store: The sandbox's store.
        url_or_id: The link's URL (any host), path, ``test_<token>`` or ``plink_`` id.
        card: A card number; spaces allowed. See ``maya.sandbox.cards``.

    Returns:
        The outcome; a paid result's ``session`` has ``status: complete`` and
        ``payment_status: paid``.
    """
    link = find_link(store, url_or_id)
    if link is None:
        return PaymentResult(outcome="not_found", message=NOT_FOUND_MESSAGE)
    if not link["active"]:
        return PaymentResult(outcome="inactive", message=INACTIVE_MESSAGE, payment_link=link["id"])
    verdict = check_card(card)
    if verdict.result == "invalid":
        return PaymentResult(
            outcome="invalid_card", message=verdict.message or "", payment_link=link["id"]
        )
    attempt = PaymentAttempt(
        paid=verdict.result == "paid",
        decline_code=verdict.decline_code,
        message=verdict.message,
        processing=verdict.result == "processing",
    )
    try:
        session = store.record_payment(link["id"], attempt)
    except StripeError:
        # Deactivated between the lookup and the charge: the customer sees the same page.
        return PaymentResult(outcome="inactive", message=INACTIVE_MESSAGE, payment_link=link["id"])
    if attempt.paid:
        return PaymentResult(
            outcome="paid", message=PAID_MESSAGE, payment_link=link["id"], session=session
        )
    if attempt.processing:
        return PaymentResult(
            outcome="processing",
            message=PROCESSING_MESSAGE,
            payment_link=link["id"],
            session=session,
            later=verdict.later,
        )
    return PaymentResult(
        outcome="declined",
        message=verdict.message or "",
        decline_code=verdict.decline_code,
        payment_link=link["id"],
        session=session,
    )
