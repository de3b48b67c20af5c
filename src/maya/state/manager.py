"""``TabManager``: the tab's public, async API.

It checks inputs, prices orders, and runs the rules of ``transitions.py`` atomically in a
store. Each method returns the new state (or a result carrying it) or raises ``StateError``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import TypeVar

from maya.codes import ErrorCode
from maya.money import Cents
from maya.state import transitions
from maya.state.catalog import Catalog, LineItem, TabSettings
from maya.state.errors import StateError
from maya.state.events import (
    EventOutcome,
    EventResult,
    LinkRecording,
    PaymentEvent,
    Recorded,
    attach_stale_link,
)
from maya.state.models import OrderedItem, PaymentRecord, TabState
from maya.state.store import Change, TabStore, Transition
from maya.state.transitions import PaymentStart, Settlement
from maya.state.watch import TabUpdates, WatchHub

__all__ = [
    "LINK_WRITE_MARGIN_S",
    "MAX_LINE_ITEMS",
    "MAX_MODIFIERS",
    "CancelledOrder",
    "ChangeListener",
    "CreditResult",
    "PaymentStarted",
    "SettleResult",
    "TabManager",
    "validate_session_id",
]

MAX_LINE_ITEMS = 50
"""The most lines one ``add_items`` call may put on a tab."""

MAX_MODIFIERS = 8

LINK_WRITE_MARGIN_S = 5.0
"""Added to a link write's own bound in its mark: clocks of two hosts differ a little,
and the provider may finish a request a moment after the sender gave up on it."""

_SESSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")

R = TypeVar("R")
S = TypeVar("S")

_CHANGING = frozenset({EventOutcome.SETTLED, EventOutcome.FAILED, EventOutcome.OVERPAID})
"""Event outcomes that changed the tab (the listeners hear of those)."""

ChangeListener = Callable[[str, TabState | None, TabState], None]
"""Called as ``listener(operation, before, after)`` after every write that changed state."""


def validate_session_id(session_id: object) -> str:
    """Return ``session_id`` if it is a usable id (1-128 of ``A-Za-z0-9_.:@-``).

    Raises:
        StateError: ``INVALID_SESSION_ID``.
    """
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        shown = session_id[:40] if isinstance(session_id, str) else type(session_id).__name__
        raise StateError(
            ErrorCode.INVALID_SESSION_ID,
            "a session id is 1-128 ASCII letters (a-z, A-Z), digits or _.:@- and starts"
            " with a letter or digit",
            session_id=shown,
        )
    return session_id


@dataclass(frozen=True, slots=True)
class PaymentStarted:
    """The result of ``TabManager.begin_payment``.

    Attributes:
        state: the tab after the snapshot.
        payment: the payment record to make a link for, or whose link to reuse.
        reused: True when the tab is unchanged and ``payment`` already has (or is getting)
            its link: make no new one.
        superseded: an outstanding payment this one replaces; deactivate its link.
    """

    state: TabState
    payment: PaymentRecord
    reused: bool
    superseded: PaymentRecord | None


@dataclass(frozen=True, slots=True)
class CancelledOrder:
    """The result of ``TabManager.cancel_last_order``.

    Attributes:
        state: the tab after the cancel.
        item: the line taken off the tab (its cost went back to the balance).
    """

    state: TabState
    item: OrderedItem


@dataclass(frozen=True, slots=True)
class SettleResult:
    """The result of ``TabManager.settle_payment``.

    Attributes:
        state: the tab after settlement.
        applied: False when this payment had already been settled: nothing changed.
        applied_cents: how much of the tab it cleared.
        credit_cents: how much it paid beyond what was owed.
        shortfall_cents: how much less than it cleared it paid (owed on the tab now).
        superseded: a newer outstanding payment it made stale: deactivate its link.
    """

    state: TabState
    applied: bool
    applied_cents: Cents
    credit_cents: Cents
    shortfall_cents: Cents = 0
    superseded: PaymentRecord | None = None


@dataclass(frozen=True, slots=True)
class CreditResult:
    """The result of ``TabManager.record_credit``.

    Attributes:
        state: the tab afterwards.
        credited_cents: how much was newly recorded as credit (0: nothing new).
    """

    state: TabState
    credited_cents: Cents


class TabManager:
    """Atomic, per-session operations on tabs kept in a ``TabStore``."""

    def __init__(
        self,
        store: TabStore,
        *,
        catalog: Catalog,
        settings: TabSettings | None = None,
        clock: Callable[[], float] = time.time,
        starting_balance_cents: Cents | None = None,
    ) -> None:
        """Create a manager.

        Args:
            store: where tabs are kept.
            catalog: what orders are priced from; its currency is every new tab's.
            settings: prepaid balance, quantity limit and tip choices. Default: the
                catalog's own (``Catalog.tab_settings``: no prepaid balance).
            clock: wall clock in Unix seconds, for payment snapshots.
            starting_balance_cents: shorthand for a prepaid balance other than the
                settings' (the settings' is used when it is None).
        """
        self.store = store
        self.catalog = catalog
        if settings is None:
            settings = catalog.tab_settings
        if starting_balance_cents is not None:
            settings = TabSettings(
                starting_balance_cents=starting_balance_cents,
                max_quantity=settings.max_quantity,
                tip_percentages=settings.tip_percentages,
            )
        self.settings = settings
        self.currency = self.catalog.currency
        self._clock = clock
        self._starting_balance = settings.starting_balance_cents or 0
        self._listeners: list[ChangeListener] = []
        self._hub: WatchHub | None = None

    def _new_tab(self, session_id: str) -> TabState:
        return transitions.new_tab(session_id, self._starting_balance, self.currency)

    def add_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener`` after every change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def watch(self, session_id: str) -> AbstractAsyncContextManager[TabUpdates]:
        """Subscribe to one session's committed changes while the block runs.

        Example::

            async with manager.watch(session_id) as updates:
                async for state in updates:  # the current state first, then each change
                    show(state)

        Latest wins: a subscriber that falls behind gets the newest state, not every one
        in between. Changes made through this manager arrive at once; with a store that
        has a change feed (PostgreSQL ``LISTEN``/``NOTIFY``) so do changes committed by
        other processes. See ``maya.state.watch``.

        Raises:
            StateError: ``INVALID_SESSION_ID``.
        """
        session_id = validate_session_id(session_id)
        if self._hub is None:
            self._hub = WatchHub(self)
        return self._hub.watch(session_id)

    async def _run(
        self, operation: str, session_id: str, transition: Transition[R], *, checked: bool = False
    ) -> tuple[TabState, R]:
        """Run ``transition`` in the store's ``transact`` and tell the listeners."""
        return await self._write(operation, session_id, transition, self.store.transact, checked)

    async def _change(
        self,
        operation: str,
        session_id: str,
        rule: Callable[[TabState], Change],
        *,
        checked: bool = False,
    ) -> TabState:
        """Run a rule that returns only its ``Change``; the new state."""
        state, _ = await self._run(
            operation, session_id, lambda s: (rule(s), None), checked=checked
        )
        return state

    async def _write(
        self,
        operation: str,
        session_id: str,
        step: Callable[[TabState], S],
        write: Callable[
            [str, Callable[[], TabState], Callable[[TabState], S]], Awaitable[tuple[TabState, R]]
        ],
        checked: bool = False,
    ) -> tuple[TabState, R]:
        """Run ``step`` through the store method ``write`` and tell the listeners.

        The session id is validated here unless the caller already did (``checked``):
        once per call, at this edge.
        """
        if not checked:
            session_id = validate_session_id(session_id)
        before: list[TabState] = []

        def observed(state: TabState) -> S:
            before.append(state)
            return step(state)

        def initial() -> TabState:
            return self._new_tab(session_id)

        state, result = await write(session_id, initial, observed)
        if self._listeners and before and state is not before[-1]:
            for listener in tuple(self._listeners):
                listener(operation, before[-1], state)
        return state, result

    async def get(self, session_id: str) -> TabState:
        """The session's state; a session never seen starts with the starting balance.

        Raises:
            StateError: ``INVALID_SESSION_ID``.
        """
        session_id = validate_session_id(session_id)
        state = await self.store.load(session_id)
        return state if state is not None else self._new_tab(session_id)

    async def order(
        self, session_id: str, item: str, quantity: int = 1, modifiers: Sequence[str] = ()
    ) -> TabState:
        """Order ``quantity`` of a catalog item, atomically: the tab grows (and with a
        prepaid balance, the balance pays).

        Raises:
            StateError: ``UNKNOWN_ITEM``, ``INVALID_QUANTITY``, ``INVALID_MODIFIER``,
                ``INSUFFICIENT_FUNDS`` or ``INVALID_SESSION_ID``; nothing changes.
        """
        # First, so that a bad id is what is reported whatever else is wrong.
        session_id = validate_session_id(session_id)
        self._check_quantity(quantity)
        if not isinstance(item, str):
            raise StateError(ErrorCode.UNKNOWN_ITEM, "an item is named by text", item="")
        if isinstance(modifiers, str) or len(modifiers) > MAX_MODIFIERS:
            raise StateError(
                ErrorCode.INVALID_MODIFIER,
                f"at most {MAX_MODIFIERS} modifiers, given as a list",
                modifier=str(modifiers)[:40],
                allowed=list(self.catalog.modifiers),
            )
        menu_item = self.catalog.find(item)
        mods = self.catalog.normalize_modifiers(menu_item, modifiers)
        prepaid = self.settings.prepaid

        def rule(state: TabState) -> Change:
            return transitions.order_change(
                state,
                name=menu_item.name,
                unit_price_cents=menu_item.price_cents,
                quantity=quantity,
                modifiers=mods,
                prepaid=prepaid,
            )

        return await self._change("order", session_id, rule, checked=True)

    def _check_quantity(self, quantity: object) -> None:
        limit = self.settings.max_quantity
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= limit
        ):
            raise StateError(
                ErrorCode.INVALID_QUANTITY,
                f"quantity must be a whole number from 1 to {limit}",
                quantity=quantity if isinstance(quantity, int) else str(quantity)[:20],
                max=limit,
            )

    async def add_items(self, session_id: str, items: Sequence[LineItem]) -> TabState:
        """Put lines the caller priced itself on the tab, all or none, atomically.

        For integrators who price orders in their own code; what a payment link then
        charges is still the stored tab. Each line's quantity is bounded by the settings'
        ``max_quantity``; with a prepaid balance, the balance must cover them all.

        Raises:
            StateError: ``INVALID_QUANTITY`` (also for no lines or more than
                ``MAX_LINE_ITEMS``), ``INSUFFICIENT_FUNDS`` or ``INVALID_SESSION_ID``;
                nothing changes.
        """
        session_id = validate_session_id(session_id)
        lines = list(items)
        if not lines or len(lines) > MAX_LINE_ITEMS:
            raise StateError(
                ErrorCode.INVALID_QUANTITY,
                f"add from 1 to {MAX_LINE_ITEMS} lines at a time",
                quantity=len(lines),
                max=MAX_LINE_ITEMS,
            )
        for line in lines:
            if not isinstance(line, LineItem):
                raise TypeError(f"add_items takes LineItem objects, not {type(line).__name__}")
            self._check_quantity(line.quantity)
        prepaid = self.settings.prepaid

        def run(state: TabState) -> tuple[TabState, None]:
            for line in lines:
                state = transitions.order_change(
                    state,
                    name=line.name,
                    unit_price_cents=line.unit_price_cents,
                    quantity=line.quantity,
                    modifiers=(),
                    prepaid=prepaid,
                ).after
            return state, None

        state, _ = await self._run("add_items", session_id, run, checked=True)
        return state

    async def cancel_last_order(self, session_id: str) -> CancelledOrder:
        """Take the last ordered line off the tab and refund it to the balance, atomically.

        Raises:
            StateError: ``NOTHING_TO_CANCEL``, ``PAYMENT_PENDING`` (a link that may be paid
                covers the item) or ``INVALID_SESSION_ID``; nothing changes.
        """
        prepaid = self.settings.prepaid
        state, item = await self._run(
            "cancel_last_order",
            session_id,
            lambda state: transitions.cancel_last_order(state, prepaid=prepaid),
        )
        return CancelledOrder(state=state, item=item)

    async def set_tip(
        self, session_id: str, percent: int | None, *, toggle: bool = True
    ) -> TabState:
        """Set a tip from the settings' choices; the selected one again removes it (unless
        ``toggle=False``).

        Raises:
            StateError: ``INVALID_TIP_PERCENTAGE`` or ``INVALID_SESSION_ID``.
        """
        allowed = self.settings.tip_percentages

        return await self._change(
            "set_tip",
            session_id,
            lambda state: transitions.set_tip_change(
                state, percent, toggle=toggle, allowed=allowed
            ),
        )

    async def remove_tip(self, session_id: str) -> TabState:
        """Remove the tip, if any.

        Raises:
            StateError: ``INVALID_SESSION_ID``.
        """
        return await self.set_tip(session_id, None)

    async def begin_payment(self, session_id: str) -> PaymentStarted:
        """Snapshot what is due (tab + tip) for a payment link.

        Asking again while the tab is unchanged returns the same payment record (same
        idempotency key, same link once recorded). If the tab changed, the outstanding
        record is superseded and returned so its link can be deactivated.

        Raises:
            StateError: ``NOTHING_TO_PAY`` or ``INVALID_SESSION_ID``.
        """
        now = int(self._clock())

        def run(state: TabState) -> tuple[Change, PaymentStart]:
            return transitions.begin_payment_change(state, now=now)

        state, start = await self._run("begin_payment", session_id, run)
        return PaymentStarted(
            state=state, payment=start.payment, reused=start.reused, superseded=start.superseded
        )

    async def mark_link_write(
        self,
        session_id: str,
        *,
        idempotency_key: str,
        expected: float | None,
        within_s: float,
        own: bool = False,
    ) -> tuple[TabState, float | None]:
        """Mark a payment "link write sent" before the write goes out (a committed CAS).

        Args:
            session_id: the tab.
            idempotency_key: the payment record's key.
            expected: the mark the caller last read (None: no write was ever sent).
            within_s: how long the write may stay in flight; the mark holds other
                writers off until then (plus ``LINK_WRITE_MARGIN_S``).
            own: ``expected`` is the caller's own earlier mark (a retry of its write).

        Returns:
            The state and the caller's new mark, or None when the mark is not the caller's
            (another process's write may be in flight, or a real link is recorded).

        Raises:
            StateError: ``PAYMENT_NOT_FOUND``, ``PAYMENT_SUPERSEDED``.
        """
        now = self._clock()
        until = now + max(within_s, 0.0) + LINK_WRITE_MARGIN_S

        def run(state: TabState) -> tuple[Change, bool]:
            return transitions.mark_link_write_change(
                state,
                idempotency_key=idempotency_key,
                expected=expected,
                until=until,
                now=now,
                own=own,
            )

        state, claimed = await self._run("mark_link_write", session_id, run)
        return state, until if claimed else None

    async def end_link_write(
        self, session_id: str, *, idempotency_key: str, mark: float, made_nothing: bool
    ) -> TabState:
        """End the caller's link write ``mark`` (see ``transitions.end_link_write_change``).

        Raises:
            StateError: ``INVALID_SESSION_ID``.
        """
        now = self._clock()

        def rule(state: TabState) -> Change:
            return transitions.end_link_write_change(
                state,
                idempotency_key=idempotency_key,
                mark=mark,
                now=now,
                made_nothing=made_nothing,
            )

        return await self._change("end_link_write", session_id, rule)

    def now(self) -> float:
        """The manager's wall clock (Unix seconds), the one payment marks are kept in."""
        return self._clock()

    async def record_payment_link(
        self,
        session_id: str,
        *,
        idempotency_key: str,
        payment_id: str,
        url: str,
        is_simulated: bool,
    ) -> TabState:
        """Attach a created link to the payment record of ``idempotency_key``.

        Stripe events kept for this link (it was paid before it was recorded) are applied
        in the same transaction. If the link is refused as stale but such an event says
        it was paid, it is attached to its superseded record so the money applies
        (credit where it paid for what is no longer owed), and ``PAYMENT_SUPERSEDED`` is
        still raised.

        Raises:
            StateError: ``PAYMENT_NOT_FOUND``, or ``PAYMENT_SUPERSEDED`` when the tab
                changed meanwhile (the link should then be deactivated).
        """

        def record(state: TabState) -> Change:
            return transitions.record_payment_link_change(
                state,
                idempotency_key=idempotency_key,
                payment_id=payment_id,
                url=url,
                is_simulated=is_simulated,
            )

        def stale(state: TabState) -> Change | None:
            return attach_stale_link(
                state, idempotency_key=idempotency_key, payment_id=payment_id, url=url
            )

        async def write(
            sid: str, initial: Callable[[], TabState], observed: Callable[[TabState], Change]
        ) -> tuple[TabState, Recorded]:
            # Events that arrived before the link was recorded are applied with it.
            link = LinkRecording(payment_id, observed, stale)
            return await self.store.transact_recording_link(sid, initial, link)

        state, recorded = await self._write("record_payment_link", session_id, record, write)
        if recorded.refused is not None:
            # The stale link's kept payment was applied; the caller still deactivates it.
            raise recorded.refused
        return state

    async def paid_by_event(self, payment_id: str) -> bool:
        """True when a webhook event said this link was paid (its later payments come so too).

        Raises:
            StoreError: when the store cannot be used.
        """
        return await self.store.paid_by_event(payment_id)

    async def apply_payment_event(
        self, event: PaymentEvent, *, livemode: bool | None = None
    ) -> EventResult:
        """Apply a (verified) Stripe Checkout event exactly once; a redelivery changes nothing.

        The tab is found by the event's payment link; the effect is the same rule
        polling uses (``settle_payment_change``...), under the same row lock. An event
        for a link not yet recorded is kept and applied when it is. With ``livemode``
        (the configured mode), an event of the other mode changes nothing and is kept
        as ``WRONG_MODE``; one in another currency than its tab's, as ``WRONG_CURRENCY``.

        Raises:
            StoreError: when the store cannot be used.
        """
        if livemode is not None and event.livemode is not None and event.livemode != livemode:
            event = replace(event, refused=EventOutcome.WRONG_MODE)
        result = await self.store.apply_event(event)
        if self._listeners and result.state is not None and result.outcome in _CHANGING:
            for listener in tuple(self._listeners):
                listener("payment_event", None, result.state)
        return result

    async def settle_payment(
        self, session_id: str, payment_id: str, *, amount_paid_cents: Cents | None = None
    ) -> SettleResult:
        """Apply a paid link to the tab exactly once; a repeat changes nothing.

        Raises:
            StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
        """

        def run(state: TabState) -> tuple[Change, Settlement]:
            return transitions.settle_payment_change(
                state, payment_id=payment_id, amount_paid_cents=amount_paid_cents
            )

        state, settlement = await self._run("settle_payment", session_id, run)
        return SettleResult(
            state=state,
            applied=settlement.applied,
            applied_cents=settlement.applied_cents,
            credit_cents=settlement.credit_cents,
            shortfall_cents=settlement.shortfall_cents,
            superseded=settlement.superseded,
        )

    async def record_link_closed(self, session_id: str, payment_id: str) -> TabState:
        """Record that a payment's link was deactivated at Stripe (it takes no more money).

        Raises:
            StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
        """
        return await self._change(
            "record_link_closed",
            session_id,
            lambda state: transitions.close_link_change(state, payment_id=payment_id),
        )

    async def mark_payment_failed(self, session_id: str, payment_id: str) -> TabState:
        """Record a declined payment; no money moves.

        Raises:
            StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
        """
        return await self._change(
            "mark_payment_failed",
            session_id,
            lambda state: transitions.mark_payment_failed_change(state, payment_id=payment_id),
        )

    async def reset(self, session_id: str) -> TabState:
        """Start the session over (payment history is kept so late payments still apply).

        Raises:
            StateError: ``INVALID_SESSION_ID``.
        """
        balance = self._starting_balance
        return await self._change(
            "reset",
            session_id,
            lambda state: transitions.reset_change(state, balance_cents=balance),
        )

    async def record_credit(
        self, session_id: str, payment_id: str, *, amount_received_cents: Cents
    ) -> CreditResult:
        """Record what a settled link received beyond what was applied, once.

        Raises:
            StateError: ``PAYMENT_NOT_FOUND`` when the payment is not this session's.
        """

        received = amount_received_cents
        state, credited = await self._run(
            "record_credit",
            session_id,
            lambda s: transitions.record_credit(
                s, payment_id=payment_id, amount_received_cents=received
            ),
        )
        return CreditResult(state=state, credited_cents=credited)
