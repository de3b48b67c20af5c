"""The payment tools: make a Stripe payment link for the bill, and check whether it was paid.

The amount comes from the tab's snapshot, never from the model; one link per snapshot
across processes (a durable "write sent" mark); a paid link settles once and is closed.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from maya.codes import ErrorCode
from maya.errors import MayaError
from maya.money import format_amount
from maya.state.errors import StateError
from maya.state.manager import CreditResult
from maya.state.models import PaymentRecord, PaymentStatus, TabState
from maya.state.view import outcome_view
from maya.tools.arguments import CheckPaymentStatusArgs, CreateStripePaymentArgs
from maya.tools.context import PaymentGateway, PaymentLinkInfo, PaymentStatusInfo, ToolContext
from maya.tools.results import ToolError
from maya.tools.views import amount

__all__ = ["check_payment_status", "create_stripe_payment", "provider_of"]

_log = logging.getLogger("maya.tools")


def _gateway(ctx: ToolContext) -> PaymentGateway:
    if ctx.payments is None:
        raise ToolError(ErrorCode.STRIPE_UNAVAILABLE, "card payments are not set up")
    return ctx.payments


def _description(ctx: ToolContext, record: PaymentRecord, state: TabState) -> str:
    """The product name the customer sees at checkout, from the message book's
    ``payment_product`` templates (``{merchant}``, ``{count}``, ``{tip_percent}``)."""
    covered = [i for i in state.items if i.seq <= record.snapshot.last_item_seq]
    count = sum(i.quantity for i in covered)
    merchant = ctx.manager.catalog.merchant
    return ctx.messages.render(
        "payment_product_one" if count == 1 else "payment_product",
        {"merchant": merchant, "count": count, "tip_percent": record.snapshot.tip_percent},
        fallback=merchant,
    )


async def _close(
    ctx: ToolContext, gateway: PaymentGateway, session_id: str, payment_id: str, why: str
) -> bool:
    """Deactivate a link and record it closed (``link_closed``); False when it stays open."""
    closed = await _deactivate(gateway, payment_id, why)
    if closed:
        try:
            await ctx.manager.record_link_closed(session_id, payment_id)
        except StateError as exc:  # a link not of this tab (mis-priced, stale): nothing to mark
            _log.info("link %s closed, not recorded: %s", payment_id, exc.code)
    return closed


async def _close_stale(
    ctx: ToolContext,
    gateway: PaymentGateway,
    session_id: str,
    state: TabState,
    *,
    keep: str | None = None,
) -> list[str]:
    """Deactivate the links a settlement left open for what is no longer owed
    (all but ``keep``, which the caller closes itself).

    Returns:
        The ids of those that could not be closed (they stay open but not owed).
    """
    still_open: list[str] = []
    for record in state.stale_links:
        payment_id = record.payment_id  # a stale link has an id (TabState.stale_links)
        if payment_id is None or payment_id == keep:
            continue
        if not await _close(ctx, gateway, session_id, payment_id, "superseded"):
            still_open.append(payment_id)
    return still_open


def _paid_status(is_simulated: bool) -> str:
    """A paid link's status (``maya.payments.CheckOutcome``): ``simulated`` when no money
    moved, never ``succeeded``, so code that fulfils on ``succeeded`` does not fire."""
    return "simulated" if is_simulated else "succeeded"


def provider_of(ctx: ToolContext, is_simulated: bool) -> str:
    """Where a payment lives: ``simulated``, or the gateway's ``provider`` (``stripe`` or
    ``sandbox``)."""
    if is_simulated:
        return "simulated"
    provider = getattr(ctx.payments, "provider", "stripe")
    return provider if isinstance(provider, str) else "stripe"


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


def _link_result(
    ctx: ToolContext, record: PaymentRecord, currency: str, *, reused: bool
) -> dict[str, Any]:
    snap = record.snapshot
    result: dict[str, Any] = {
        "url": record.url,
        "payment_id": record.payment_id,
        **amount("amount", snap.amount_cents, currency),
        **amount("tab", snap.tab_cents, currency),
        "tip_percent": snap.tip_percent,
        **amount("tip", snap.tip_cents, currency),
        "is_simulated": record.is_simulated,
        "provider": provider_of(ctx, record.is_simulated),
        "reused": reused,
    }
    if record.is_simulated:
        result["simulated_note"] = SIMULATED_NOTE
    result["message"] = ctx.messages.render(
        "payment_link_ready_simulated" if record.is_simulated else "payment_link_ready",
        {"amount": result["amount"], "url": record.url},
    )
    return result


FOREIGN_WRITE_POLL_S = 0.2
"""How often the store is read while another process's link write is in flight."""

FOREIGN_WRITE_WAIT_S = 30.0
"""The longest one Pay waits for another process's link write before giving up."""


class _WriteInFlight(Exception):
    """Another process marked the record first: its link write may be in flight."""


class _LinkWrite:
    """One Pay's claim on a payment record's durable "link write sent" mark."""

    def __init__(self, ctx: ToolContext, session_id: str, record: PaymentRecord) -> None:
        self._ctx = ctx
        self._session_id = session_id
        self._key = record.idempotency_key
        self._seen = record.link_write_until
        self.mine: float | None = None

    async def mark(self, within_s: float) -> None:
        """The gateway's ``before_write``: commit the mark, or stop the write.

        Raises:
            _WriteInFlight: the mark is not ours (another process's write may be in flight).
        """
        own = self.mine is not None
        _, mark = await self._ctx.manager.mark_link_write(
            self._session_id,
            idempotency_key=self._key,
            expected=self.mine if own else self._seen,
            within_s=within_s,
            own=own,
        )
        if mark is None:
            raise _WriteInFlight
        self.mine = mark

    async def end(self, *, made_nothing: bool) -> None:
        """Our write is over: leave the mark in the past (or clear it if nothing was made).

        Never raises: if the store cannot be reached, the mark simply runs out.
        """
        mark, self.mine = self.mine, None
        if mark is None:
            return
        with anyio.move_on_after(5.0):
            try:
                await self._ctx.manager.end_link_write(
                    self._session_id,
                    idempotency_key=self._key,
                    mark=mark,
                    made_nothing=made_nothing,
                )
            except Exception as exc:  # the mark runs out on its own
                _log.warning("could not end the link write mark: %s", type(exc).__name__)


async def _obtain_link(
    ctx: ToolContext,
    gateway: PaymentGateway,
    session_id: str,
    record: PaymentRecord,
    description: str,
    currency: str,
) -> PaymentLinkInfo | PaymentRecord:
    """A link for ``record``: found, made, or recorded meanwhile by another process.

    Returns:
        The gateway's link, or the record as another process completed it.

    Raises:
        StateError: ``PAYMENT_SUPERSEDED`` when the tab changed meanwhile.
        ToolError: ``PAYMENT_LINK_FAILED`` when another process's write stayed in flight
            for longer than ``FOREIGN_WRITE_WAIT_S``.
        Exception: the gateway's own coded errors.
    """
    give_up_at = ctx.manager.now() + FOREIGN_WRITE_WAIT_S
    while True:
        claim = _LinkWrite(ctx, session_id, record)
        try:
            link = await gateway.create_payment_link(
                amount_cents=record.snapshot.amount_cents,
                description=description,
                idempotency_key=record.idempotency_key,
                currency=currency,
                look_first=record.link_write_sent,
                before_write=claim.mark,
            )
        except _WriteInFlight:
            record = await _await_other_write(ctx, session_id, record, give_up_at)
            if record.has_real_link:
                return record
            continue
        except Exception as exc:
            # (A cancelled Pay leaves its mark running: its write may still be in flight.)
            await claim.end(made_nothing=getattr(exc, "link_maybe_created", None) is False)
            raise
        if link.is_simulated:
            # A simulated link is only ever given when no write can have made a link.
            await claim.end(made_nothing=True)
        return link


async def _await_other_write(
    ctx: ToolContext, session_id: str, record: PaymentRecord, give_up_at: float
) -> PaymentRecord:
    """Wait until no other process's link write for ``record`` may be in flight.

    Returns:
        The record as it is then: with the other process's real link, or with a mark
        that has ended or run out (look first, then write).

    Raises:
        StateError: ``PAYMENT_SUPERSEDED`` when the tab changed meanwhile.
        ToolError: ``PAYMENT_LINK_FAILED`` past ``give_up_at``.
    """
    while True:
        state = await ctx.manager.get(session_id)
        current = next(
            (r for r in state.payments if r.idempotency_key == record.idempotency_key), None
        )
        if current is None or current.superseded:
            raise StateError(
                ErrorCode.PAYMENT_SUPERSEDED,
                "the tab changed while the payment link was being made",
                idempotency_key=record.idempotency_key[:80],
            )
        now = ctx.manager.now()
        mark = current.link_write_until
        if current.has_real_link or mark is None or mark <= now:
            return current
        if now >= give_up_at:
            raise ToolError(
                ErrorCode.PAYMENT_LINK_FAILED,
                "another request is still making this payment link; ask again in a moment",
            )
        await ctx.sleep(FOREIGN_WRITE_POLL_S)


async def create_stripe_payment(
    ctx: ToolContext, session_id: str, args: CreateStripePaymentArgs
) -> dict[str, Any]:
    """Make (or reuse) the payment link for the tab plus tip.

    A simulated link on the tab (Stripe was unreachable) is not reused as is: Stripe is
    asked again, and a real link replaces it when it answers.

    Raises:
        StateError: ``NOTHING_TO_PAY``; ``PAYMENT_SUPERSEDED`` when the tab changed while
            the link was being made (that link is deactivated).
        ToolError: ``STRIPE_UNAVAILABLE`` without a gateway; ``PAYMENT_LINK_FAILED`` when
            the provider's link charges another amount, or another process's link write
            stayed in flight too long.
        Exception: the gateway's own coded errors (``STRIPE_UNAVAILABLE``...).
    """
    gateway = _gateway(ctx)
    async with ctx.payment_lock(session_id):
        # The snapshot is kept even if the provider then fails (no money moves): a retry
        # finds it unchanged and asks again with the same idempotency key.
        started = await ctx.manager.begin_payment(session_id)
        record = started.payment
        # A link a settlement left open for what is no longer owed (it could not be
        # closed then): try again now, before another link is offered. The link this
        # snapshot replaces is closed below, and reported.
        replacing = started.superseded.payment_id if started.superseded else None
        await _close_stale(ctx, gateway, session_id, started.state, keep=replacing)
        if started.reused and record.has_real_link:
            return _link_result(ctx, record, started.state.currency, reused=True)
        stopgap = record if started.reused and record.is_simulated else None
        if stopgap is not None:
            return await _replace_simulated(ctx, gateway, session_id, stopgap, started.state)
        replaced: dict[str, Any] = {}
        old = started.superseded
        if old is not None and old.payment_id is not None:
            replaced = {
                "replaced_payment_id": old.payment_id,
                "replaced_link_deactivated": await _close(
                    ctx, gateway, session_id, old.payment_id, "superseded"
                ),
            }
        currency = started.state.currency
        obtained = await _obtain_link(
            ctx, gateway, session_id, record, _description(ctx, record, started.state), currency
        )
        if isinstance(obtained, PaymentRecord):  # another process made and recorded it
            return {**_link_result(ctx, obtained, currency, reused=True), **replaced}
        recorded = await _checked_and_recorded(ctx, gateway, session_id, record, obtained, currency)
        return {**_link_result(ctx, recorded, currency, reused=False), **replaced}


async def _checked_and_recorded(
    ctx: ToolContext,
    gateway: PaymentGateway,
    session_id: str,
    record: PaymentRecord,
    link: PaymentLinkInfo,
    currency: str,
) -> PaymentRecord:
    link_currency = getattr(link, "currency", currency)
    if link.amount_cents != record.snapshot.amount_cents or link_currency != currency:
        await _deactivate(gateway, link.payment_id, "mis-priced")
        raise ToolError(
            ErrorCode.PAYMENT_LINK_FAILED,
            "the payment link was made for the wrong amount",
            expected_cents=record.snapshot.amount_cents,
            got_cents=link.amount_cents,
            expected_currency=currency,
            got_currency=str(link_currency)[:8],
        )
    state = await _record(ctx, gateway, session_id, record, link)
    recorded = state.find_payment(link.payment_id)
    if recorded is None:  # record_payment_link just attached it: a bug if not
        raise ToolError(ErrorCode.INTERNAL_ERROR, "the payment link was not recorded")
    return recorded


async def _replace_simulated(
    ctx: ToolContext,
    gateway: PaymentGateway,
    session_id: str,
    stopgap: PaymentRecord,
    state: TabState,
) -> dict[str, Any]:
    """Ask Stripe again for a tab whose link is simulated; a real link replaces it.

    Nothing real is deactivated (a simulated link never existed at Stripe), and the
    same record, key and "write sent" mark guard the real write, so a tab never gets
    two real links. While Stripe still cannot make one, the simulated link stands.
    """
    try:
        obtained = await _obtain_link(
            ctx, gateway, session_id, stopgap, _description(ctx, stopgap, state), state.currency
        )
    except MayaError as exc:
        if isinstance(exc, StateError | ToolError):
            raise
        _log.info("simulated link kept: Stripe still failing (%s)", type(exc).__name__)
        return _link_result(ctx, stopgap, state.currency, reused=True)
    if isinstance(obtained, PaymentRecord):
        recorded = obtained
    elif obtained.is_simulated:
        return _link_result(ctx, stopgap, state.currency, reused=True)
    else:
        recorded = await _checked_and_recorded(
            ctx, gateway, session_id, stopgap, obtained, state.currency
        )
    result = _link_result(ctx, recorded, state.currency, reused=False)
    result["replaced_simulated_payment_id"] = stopgap.payment_id
    result["message"] = ctx.messages.render(
        "payment_link_replaces_simulated", {"amount": result["amount"], "url": recorded.url}
    )
    return result


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
    if record.is_simulated and record.status is PaymentStatus.PENDING and not record.superseded:
        # A stopgap: if Stripe answers now, the customer gets a real link instead.
        async with ctx.payment_lock(session_id):
            current = (await ctx.manager.get(session_id)).current_payment
            if current is not None and current.idempotency_key == record.idempotency_key:
                link = await _replace_simulated(ctx, gateway, session_id, current, state)
                if "replaced_simulated_payment_id" in link:
                    return {
                        "payment_id": link["payment_id"],
                        "payment_status": "pending",
                        "is_simulated": False,
                        "url": link["url"],
                        "replaced_simulated_payment_id": link["replaced_simulated_payment_id"],
                        "message": link["message"],
                    }
    if record.status is PaymentStatus.COMPLETED:
        if await ctx.manager.paid_by_event(payment_id):
            # Settled by Stripe's webhook: the stored state is the answer, and any later
            # payment on the link arrives as an event too. No Stripe call.
            return _settled_by_event(ctx, state, record, payment_id)
        answer = await _already_settled(ctx, gateway, session_id, record, payment_id)
        # What is still owed, or open though not owed, is said with every answer.
        if state.shortfall_cents:
            answer.update(amount("shortfall", state.shortfall_cents, state.currency))
            answer.update(amount("total_due", state.total_due_cents, state.currency))
            answer["message"] += _outcome_words(ctx, 0, state.shortfall_cents, state.currency)
        if state.stale_links:
            answer["open_links_not_owed"] = outcome_view(state)["open_links_not_owed"]
            answer["message"] += _stale_words(ctx, state)
        return answer
    status = await gateway.check_payment_status(payment_id)
    simulated = record.is_simulated or bool(getattr(status, "is_simulated", False))
    paid_in = getattr(status, "currency", None)
    cur = state.currency
    if status.status == "succeeded" and isinstance(paid_in, str) and paid_in.lower() != cur:
        # Never applied: the amount is in another currency's units.
        raise ToolError(
            ErrorCode.PAYMENT_CURRENCY_MISMATCH,
            f"the payment was made in {paid_in.upper()[:8]}, the tab is in {cur.upper()}",
            payment_id=payment_id,
            paid_currency=paid_in.lower()[:8],
            currency=cur,
        )
    paid_now = status.status in ("succeeded", "simulated")
    result: dict[str, Any] = {
        "payment_id": payment_id,
        # A simulated payment is never "succeeded": code that fulfils on it must not fire.
        "payment_status": "simulated" if simulated and paid_now else status.status,
        "is_simulated": simulated,
        "provider": provider_of(ctx, simulated),
    }
    if simulated:
        result["simulated_note"] = SIMULATED_NOTE
    if paid_now:
        settled = await ctx.manager.settle_payment(
            session_id, payment_id, amount_paid_cents=status.amount_paid_cents
        )
        paid = status.amount_paid_cents
        if paid is None:
            paid = record.snapshot.amount_cents
        result.update(
            applied=settled.applied,
            **amount("amount_paid", paid, cur),
            **amount("tab", settled.state.tab_cents, cur),
        )
        if ctx.manager.settings.prepaid:
            result.update(amount("balance", settled.state.balance_cents, cur))
        still_open: list[str] = []
        if settled.applied:
            # Paid once is enough: close the link so it cannot be paid again.
            result["link_closed"] = await _close(ctx, gateway, session_id, payment_id, "settled")
            # A newer link for more than is now due must not stay payable either.
            still_open = await _close_stale(ctx, gateway, session_id, settled.state)
            if still_open:
                result["open_links_not_owed"] = [
                    link
                    for link in outcome_view(settled.state)["open_links_not_owed"]
                    if link["payment_id"] in still_open
                ]
        overpaid = await _record_overpayment(ctx, session_id, payment_id, record, status)
        state = settled.state if overpaid is None else overpaid.state
        if settled.credit_cents:
            result.update(amount("credit", settled.credit_cents, cur))
        if settled.shortfall_cents:
            result.update(amount("shortfall", settled.shortfall_cents, cur))
            result.update(amount("total_due", state.total_due_cents, cur))
        if overpaid is not None and overpaid.credited_cents:
            result.update(amount("overpaid", overpaid.credited_cents, cur))
            result.update(amount("credit", state.credit_cents, cur))
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
        result["message"] += _outcome_words(ctx, settled.credit_cents, settled.shortfall_cents, cur)
        if still_open:
            result["message"] += _stale_words(ctx, settled.state, only=still_open)
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
) -> CreditResult | None:
    """Record what the link received beyond its first payment; None when nothing more."""
    count = getattr(status, "payments_received", 0)
    total = getattr(status, "amount_received_cents", None)
    if not isinstance(count, int) or count <= 1:
        return None
    if not isinstance(total, int):
        total = count * record.snapshot.amount_cents
    return await ctx.manager.record_credit(session_id, payment_id, amount_received_cents=total)


def _outcome_words(ctx: ToolContext, credit_cents: int, shortfall_cents: int, currency: str) -> str:
    """Sentences for money beyond what was owed (credit) or short of it (still due)."""
    words = ""
    if shortfall_cents:
        words += " " + ctx.messages.render(
            "payment_paid_short", {"shortfall": format_amount(shortfall_cents, currency)}
        )
    if credit_cents:
        words += " " + ctx.messages.render(
            "payment_credit_to_refund", {"credit": format_amount(credit_cents, currency)}
        )
    return words


def _stale_words(ctx: ToolContext, state: TabState, *, only: list[str] | None = None) -> str:
    """A sentence per link still open at Stripe for what is no longer owed (or ``only``)."""
    return "".join(
        " "
        + ctx.messages.render(
            "payment_link_open_not_owed",
            {"amount": format_amount(r.snapshot.amount_cents, state.currency)},
        )
        for r in state.stale_links
        if only is None or r.payment_id in only
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
    cur = state.currency
    result: dict[str, Any] = {
        "payment_id": payment_id,
        "payment_status": _paid_status(record.is_simulated),
        "applied": False,
        "confirmed_by": "stripe_webhook",
        "is_simulated": record.is_simulated,
        "provider": provider_of(ctx, record.is_simulated),
        **amount("amount_paid", paid, cur),
        **amount("tab", state.tab_cents, cur),
        **(amount("balance", state.balance_cents, cur) if ctx.manager.settings.prepaid else {}),
        **amount("total_due", state.total_due_cents, cur),
        # Shortfall still due, credit to refund, links open but not owed (no URLs).
        **outcome_view(state),
    }
    if state.needs_reconciliation:
        result["needs_reconciliation"] = True
    if record.is_simulated:
        result["simulated_note"] = SIMULATED_NOTE
        result["message"] = ctx.messages.render("payment_already_settled_simulated")
    else:
        result["message"] = ctx.messages.render(
            "payment_confirmed_by_webhook", {"amount": result["amount_paid"]}
        )
    result["message"] += _outcome_words(ctx, state.credit_cents, state.shortfall_cents, cur)
    result["message"] += _stale_words(ctx, state)
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
        "payment_status": _paid_status(record.is_simulated),
        "applied": False,
        "is_simulated": record.is_simulated,
        "provider": provider_of(ctx, record.is_simulated),
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
        cur = overpaid.state.currency
        result.update(amount("overpaid", overpaid.credited_cents, cur))
        result.update(amount("credit", overpaid.state.credit_cents, cur))
        result["needs_reconciliation"] = True
        result["message"] += " " + ctx.messages.render(
            "payment_overpaid", {"overpaid": result["overpaid"]}
        )
        # It was paid after settlement: the link is still open, close it now.
        result["link_closed"] = await _deactivate(gateway, payment_id, "overpaid")
    return result
