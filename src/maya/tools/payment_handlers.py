"""The payment tools: make a Stripe payment link for the bill, and check whether it was paid.

The amount always comes from the tab's own snapshot (``TabManager.begin_payment``), never
from the model. Making a link is single-flight per session (a lock here, plus the tab's
idempotency across processes), so asking twice yields one link; a link made for a tab
that changed meanwhile is deactivated. A paid link is settled exactly once and then
closed (deactivated) so it cannot be paid again; a payment that still arrives on it
(or a second one on any settled link) is recorded as an overpayment to refund.

A simulated payment says so in every result (``is_simulated: true`` and a message that
no money moved), so whatever model reads the result relays it.
"""

from __future__ import annotations

import logging
from typing import Any

from maya.codes import ErrorCode
from maya.state.errors import StateError
from maya.state.manager import ExtraPaymentResult
from maya.state.models import PaymentRecord, PaymentStatus, TabState
from maya.tools.arguments import CheckPaymentStatusArgs, CreateStripePaymentArgs
from maya.tools.context import PaymentGateway, PaymentLinkInfo, PaymentStatusInfo, ToolContext
from maya.tools.results import ToolError
from maya.tools.views import amount

__all__ = ["check_payment_status", "create_stripe_payment"]

_log = logging.getLogger("maya.tools")


def _gateway(ctx: ToolContext) -> PaymentGateway:
    if ctx.payments is None:
        raise ToolError(ErrorCode.STRIPE_UNAVAILABLE, "card payments are not set up")
    return ctx.payments


def _description(record: PaymentRecord, state: TabState) -> str:
    covered = [i for i in state.items if i.seq <= record.snapshot.last_item_seq]
    drinks = sum(i.quantity for i in covered)
    tip = record.snapshot.tip_percent
    return f"Maya bar tab: {drinks} drink{'s' if drinks != 1 else ''}" + (
        f" + {tip}% tip" if tip else ""
    )


async def _deactivate(gateway: PaymentGateway, payment_id: str, why: str) -> bool:
    """Deactivate a link; a failure is logged, not raised (a late payment still settles).

    Returns:
        False when the gateway raised or answered ``False`` (it could not deactivate).
    """
    try:
        answer = await gateway.deactivate_payment_link(payment_id)
    except Exception as exc:  # any gateway failure: the link stays payable, settled once
        _log.warning("could not deactivate %s link %s: %s", why, payment_id, type(exc).__name__)
        return False
    if answer is False:
        _log.warning("the gateway did not deactivate %s link %s", why, payment_id)
        return False
    return True


SIMULATED_NOTE = "simulated test payment: no real card is charged and no money moves"
"""Put in every result about a simulated payment, beside ``is_simulated: true``."""


def _link_result(ctx: ToolContext, record: PaymentRecord, *, reused: bool) -> dict[str, Any]:
    snap = record.snapshot
    result: dict[str, Any] = {
        "url": record.url,
        "payment_id": record.payment_id,
        **amount("amount", snap.amount_cents),
        **amount("tab", snap.tab_cents),
        "tip_percent": snap.tip_percent,
        **amount("tip", snap.tip_cents),
        "is_simulated": record.is_simulated,
        "reused": reused,
    }
    if record.is_simulated:
        result["simulated_note"] = SIMULATED_NOTE
    result["message"] = ctx.messages.render(
        "payment_link_ready_simulated" if record.is_simulated else "payment_link_ready",
        {"amount": result["amount"], "url": record.url},
    )
    return result


async def create_stripe_payment(
    ctx: ToolContext, session_id: str, args: CreateStripePaymentArgs
) -> dict[str, Any]:
    """Make (or reuse) the payment link for the tab plus tip.

    Raises:
        StateError: ``NOTHING_TO_PAY``; ``PAYMENT_SUPERSEDED`` when the tab changed while
            the link was being made (that link is deactivated).
        ToolError: ``STRIPE_UNAVAILABLE`` without a gateway; ``PAYMENT_LINK_FAILED`` when
            the provider's link charges another amount.
        Exception: the gateway's own coded errors (``STRIPE_UNAVAILABLE``...).
    """
    gateway = _gateway(ctx)
    async with ctx.payment_lock(session_id):
        # The snapshot is kept even if the provider then fails (no money moves): a retry
        # finds it unchanged and asks again with the same idempotency key.
        started = await ctx.manager.begin_payment(session_id)
        record = started.payment
        if started.reused and record.url is not None:
            return _link_result(ctx, record, reused=True)
        replaced: dict[str, Any] = {}
        old = started.superseded
        if old is not None and old.payment_id is not None:
            replaced = {
                "replaced_payment_id": old.payment_id,
                "replaced_link_deactivated": await _deactivate(
                    gateway, old.payment_id, "superseded"
                ),
            }
        # The same idempotency key again (a retry after a failure) returns the same link.
        link = await gateway.create_payment_link(
            amount_cents=record.snapshot.amount_cents,
            description=_description(record, started.state),
            idempotency_key=record.idempotency_key,
        )
        if link.amount_cents != record.snapshot.amount_cents:
            await _deactivate(gateway, link.payment_id, "mis-priced")
            raise ToolError(
                ErrorCode.PAYMENT_LINK_FAILED,
                "the payment link was made for the wrong amount",
                expected_cents=record.snapshot.amount_cents,
                got_cents=link.amount_cents,
            )
        state = await _record(ctx, gateway, session_id, record, link)
        recorded = state.find_payment(link.payment_id)
        if recorded is None:  # record_payment_link just attached it: a bug if not
            raise ToolError(ErrorCode.INTERNAL_ERROR, "the payment link was not recorded")
        return {**_link_result(ctx, recorded, reused=False), **replaced}


async def _record(
    ctx: ToolContext,
    gateway: PaymentGateway,
    session_id: str,
    record: PaymentRecord,
    link: PaymentLinkInfo,
) -> TabState:
    try:
        return await ctx.manager.record_payment_link(
            session_id,
            idempotency_key=record.idempotency_key,
            payment_id=link.payment_id,
            url=link.url,
            is_simulated=link.is_simulated,
        )
    except StateError as exc:
        if exc.code is ErrorCode.PAYMENT_SUPERSEDED:
            await _deactivate(gateway, link.payment_id, "stale")
        raise


def _payment_to_check(state: TabState, payment_id: str | None) -> PaymentRecord:
    if payment_id is not None:
        record = state.find_payment(payment_id)
        if record is None:
            raise ToolError(
                ErrorCode.PAYMENT_NOT_FOUND,
                "that payment does not belong to this tab",
                payment_id=payment_id,
            )
        return record
    current = state.current_payment
    if current is None or current.payment_id is None:
        raise ToolError(ErrorCode.PAYMENT_NOT_FOUND, "there is no payment link to check yet")
    return current


async def check_payment_status(
    ctx: ToolContext, session_id: str, args: CheckPaymentStatusArgs
) -> dict[str, Any]:
    """Ask the provider whether the session's payment link was paid, and act on it.

    ``succeeded`` settles the payment exactly once; ``failed`` records the decline (no
    money moves); ``pending`` and ``timeout`` change nothing.

    Raises:
        ToolError: ``PAYMENT_NOT_FOUND`` when there is no such payment for this session;
            ``STRIPE_UNAVAILABLE`` without a gateway.
        Exception: the gateway's own coded errors (``PAYMENT_STATUS_TIMEOUT``...).
    """
    gateway = _gateway(ctx)
    state = await ctx.manager.get(session_id)
    record = _payment_to_check(state, args.payment_id)
    payment_id = record.payment_id
    if payment_id is None:  # only records with a link are found above: a bug if not
        raise ToolError(ErrorCode.PAYMENT_NOT_FOUND, "the payment has no link to check")
    if record.status is PaymentStatus.COMPLETED:
        if await ctx.manager.paid_by_event(payment_id):
            # Settled by Stripe's webhook: the stored state is the answer, and any later
            # payment on the link arrives as an event too. No Stripe call.
            return _settled_by_event(ctx, state, record, payment_id)
        return await _already_settled(ctx, gateway, session_id, record, payment_id)
    status = await gateway.check_payment_status(payment_id)
    simulated = record.is_simulated or bool(getattr(status, "is_simulated", False))
    result: dict[str, Any] = {
        "payment_id": payment_id,
        "payment_status": status.status,
        "is_simulated": simulated,
    }
    if simulated:
        result["simulated_note"] = SIMULATED_NOTE
    if status.status == "succeeded":
        settled = await ctx.manager.settle_payment(
            session_id, payment_id, amount_paid_cents=status.amount_paid_cents
        )
        paid = status.amount_paid_cents
        if paid is None:
            paid = record.snapshot.amount_cents
        result.update(
            applied=settled.applied,
            **amount("amount_paid", paid),
            **amount("tab", settled.state.tab_cents),
            **amount("balance", settled.state.balance_cents),
        )
        if settled.applied:
            # Paid once is enough: close the link so it cannot be paid again.
            result["link_closed"] = await _deactivate(gateway, payment_id, "settled")
        overpaid = await _record_overpayment(ctx, session_id, payment_id, record, status)
        state = settled.state if overpaid is None else overpaid.state
        if settled.credit_cents:
            result.update(amount("credit", settled.credit_cents))
        if overpaid is not None and overpaid.credited_cents:
            result.update(amount("overpaid", overpaid.credited_cents))
            result.update(amount("credit", state.credit_cents))
        if state.needs_reconciliation:
            result["needs_reconciliation"] = True
        if simulated:
            key = (
                "payment_simulated_succeeded"
                if settled.applied
                else "payment_already_settled_simulated"
            )
        else:
            key = "payment_succeeded" if settled.applied else "payment_already_settled"
        result["message"] = ctx.messages.render(key, {"amount": result["amount_paid"]})
        if overpaid is not None and overpaid.credited_cents:
            result["message"] += " " + ctx.messages.render(
                "payment_overpaid", {"overpaid": result["overpaid"]}
            )
    elif status.status == "failed":
        await ctx.manager.mark_payment_failed(session_id, payment_id)
        reason = status.failure_reason or "declined"
        result.update(
            decline_reason=reason,
            url=record.url,
            message=ctx.messages.render(
                ErrorCode.PAYMENT_DECLINED, {"reason": reason.replace("_", " ")}
            ),
        )
    elif status.status == "timeout":
        result["message"] = ctx.messages.render(ErrorCode.PAYMENT_STATUS_TIMEOUT)
    else:
        result["message"] = ctx.messages.render("payment_pending")
    return result


async def _record_overpayment(
    ctx: ToolContext,
    session_id: str,
    payment_id: str,
    record: PaymentRecord,
    status: PaymentStatusInfo,
) -> ExtraPaymentResult | None:
    """Record what the link received beyond its first payment; None when nothing more."""
    count = getattr(status, "payments_received", 0)
    total = getattr(status, "amount_received_cents", None)
    if not isinstance(count, int) or count <= 1:
        return None
    if not isinstance(total, int):
        total = count * record.snapshot.amount_cents
    return await ctx.manager.record_extra_payment(
        session_id, payment_id, amount_received_cents=total
    )


def _settled_by_event(
    ctx: ToolContext, state: TabState, record: PaymentRecord, payment_id: str
) -> dict[str, Any]:
    """The answer for a payment a webhook event settled, from the stored state alone."""
    paid = (
        record.amount_paid_cents
        if record.amount_paid_cents is not None
        else record.snapshot.amount_cents
    )
    result: dict[str, Any] = {
        "payment_id": payment_id,
        "payment_status": "succeeded",
        "applied": False,
        "confirmed_by": "stripe_webhook",
        "is_simulated": record.is_simulated,
        **amount("amount_paid", paid),
        **amount("tab", state.tab_cents),
        **amount("balance", state.balance_cents),
    }
    if state.credit_cents:
        result.update(amount("credit", state.credit_cents))
    if state.needs_reconciliation:
        result["needs_reconciliation"] = True
    if record.is_simulated:
        result["simulated_note"] = SIMULATED_NOTE
        result["message"] = ctx.messages.render("payment_already_settled_simulated")
    else:
        result["message"] = ctx.messages.render(
            "payment_confirmed_by_webhook", {"amount": result["amount_paid"]}
        )
    return result


async def _already_settled(
    ctx: ToolContext,
    gateway: PaymentGateway,
    session_id: str,
    record: PaymentRecord,
    payment_id: str,
) -> dict[str, Any]:
    """A settled payment asked about again: look for money that arrived since."""
    result: dict[str, Any] = {
        "payment_id": payment_id,
        "payment_status": "succeeded",
        "applied": False,
        "is_simulated": record.is_simulated,
    }
    if record.is_simulated:
        result["simulated_note"] = SIMULATED_NOTE
        result["message"] = ctx.messages.render("payment_already_settled_simulated")
        return result
    result["message"] = ctx.messages.render("payment_already_settled")
    try:
        status = await gateway.check_payment_status(payment_id)
    except Exception as exc:  # the settlement stands; a late payment is found next time
        _log.info("could not re-read settled payment %s: %s", payment_id, type(exc).__name__)
        return result
    overpaid = await _record_overpayment(ctx, session_id, payment_id, record, status)
    if overpaid is not None and overpaid.credited_cents:
        result.update(amount("overpaid", overpaid.credited_cents))
        result.update(amount("credit", overpaid.state.credit_cents))
        result["needs_reconciliation"] = True
        result["message"] += " " + ctx.messages.render(
            "payment_overpaid", {"overpaid": result["overpaid"]}
        )
        # It was paid after settlement: the link is still open, close it now.
        result["link_closed"] = await _deactivate(gateway, payment_id, "overpaid")
    return result
