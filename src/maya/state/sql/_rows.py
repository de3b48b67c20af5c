"""Between ``TabState`` and table rows: decoding what was read, planning what to write.

``plan_change`` turns a ``Change`` into exactly its statements; ``plan_writes`` compares
the state read with a bare new state. Either way only what differs is written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from maya.state.models import OrderedItem, PaymentRecord, PaymentSnapshot, PaymentStatus, TabState
from maya.state.sql import _schema
from maya.state.store import Change

__all__ = [
    "Params",
    "WritePlan",
    "decode_head",
    "decode_state",
    "head_of",
    "known_params",
    "plan_change",
    "plan_writes",
    "tab_params",
]

Params = dict[str, Any]
Row = Sequence[Any]


Head = tuple[int, int, int, int | None, int, bool, int, int, str]
"""What the tab row holds: balance, tab, next seq, tip, credit, reconcile flag, version,
shortfall, currency."""


def decode_head(tab: Row) -> Head:
    """The tab row (as ``_schema.SELECT_TAB`` returns it) as plain values."""
    balance, tab_cents, next_seq, tip, credit, reconcile, version, shortfall, currency = tab
    # SQLite hands booleans back as 0/1.
    return (
        balance,
        tab_cents,
        next_seq,
        tip,
        credit,
        bool(reconcile),
        version,
        shortfall,
        currency,
    )


def head_of(state: TabState) -> Head:
    """What ``state`` keeps on its tab row, as ``decode_head`` returns it."""
    return (
        state.balance_cents,
        state.tab_cents,
        state.next_item_seq,
        state.tip_percent,
        state.credit_cents,
        state.needs_reconciliation,
        state.version,
        state.shortfall_cents,
        state.currency,
    )


def decode_state(
    session_id: str, tab: Row, items: Sequence[Row], payments: Sequence[Row]
) -> TabState:
    """Rebuild a session's state from its rows (as ``_schema.SELECT_*`` return them).

    Raises:
        pydantic.ValidationError: when the rows hold something a ``TabState`` cannot.
    """
    balance, tab_cents, next_seq, tip, credit, reconcile, version, shortfall, currency = tab
    return TabState(
        session_id=session_id,
        currency=currency,
        balance_cents=balance,
        tab_cents=tab_cents,
        items=tuple(
            OrderedItem(
                seq=seq,
                name=name,
                unit_price_cents=price,
                quantity=quantity,
                modifiers=tuple(json.loads(modifiers)),
            )
            for seq, name, price, quantity, modifiers in items
        ),
        next_item_seq=next_seq,
        tip_percent=tip,
        credit_cents=credit,
        # SQLite hands booleans back as 0/1.
        needs_reconciliation=bool(reconcile),
        shortfall_cents=shortfall,
        payments=tuple(_decode_payment(row) for row in payments),
        version=version,
    )


def _decode_payment(row: Row) -> PaymentRecord:
    values = dict(zip(_schema.PAYMENT_COLUMNS, row, strict=True))
    return PaymentRecord(
        idempotency_key=values["idempotency_key"],
        snapshot=PaymentSnapshot(
            tab_cents=values["snapshot_tab_cents"],
            tip_percent=values["snapshot_tip_percent"],
            tip_cents=values["snapshot_tip_cents"],
            last_item_seq=values["snapshot_last_item_seq"],
            version=values["snapshot_version"],
            created_at=values["snapshot_created_at"],
            shortfall_cents=values["snapshot_shortfall_cents"],
        ),
        payment_id=values["payment_id"],
        url=values["url"],
        is_simulated=bool(values["is_simulated"]),
        status=PaymentStatus(values["status"]),
        superseded=bool(values["superseded"]),
        amount_paid_cents=values["amount_paid_cents"],
        link_closed=bool(values["link_closed"]),
        link_write_until=values["link_write_until"],
    )


def known_params(state: TabState) -> Params:
    """Parameters naming what ``state`` keeps on its tab row, for ``UPDATE_KNOWN_TAB``'s
    guard (``old_balance_cents``... and ``old_version``)."""
    params: Params = {f"old_{column}": getattr(state, column) for column in _schema.HEAD_COLUMNS}
    if state.tip_percent is None:
        params["old_tip_percent"] = _schema.NO_TIP
    params["old_version"] = state.version
    return params


def tab_params(state: TabState, *, updated_at: float, old_version: int | None = None) -> Params:
    """Parameters for ``INSERT_TAB`` (and, with ``old_version``, ``UPDATE_TAB``)."""
    params: Params = {
        "session_id": state.session_id,
        "balance_cents": state.balance_cents,
        "tab_cents": state.tab_cents,
        "next_item_seq": state.next_item_seq,
        "tip_percent": state.tip_percent,
        "credit_cents": state.credit_cents,
        "needs_reconciliation": state.needs_reconciliation,
        "version": state.version,
        "updated_at": updated_at,
        "shortfall_cents": state.shortfall_cents,
        "currency": state.currency,
    }
    if old_version is not None:
        params["old_version"] = old_version
    return params


def _item_params(session_id: str, item: OrderedItem) -> Params:
    return {
        "session_id": session_id,
        "seq": item.seq,
        "name": item.name,
        "unit_price_cents": item.unit_price_cents,
        "quantity": item.quantity,
        "modifiers": json.dumps(list(item.modifiers), ensure_ascii=False),
    }


def _payment_params(session_id: str, position: int, record: PaymentRecord) -> Params:
    snap = record.snapshot
    return {
        "session_id": session_id,
        "idempotency_key": record.idempotency_key,
        "position": position,
        "payment_id": record.payment_id,
        "url": record.url,
        "is_simulated": record.is_simulated,
        "status": record.status.value,
        "superseded": record.superseded,
        "amount_paid_cents": record.amount_paid_cents,
        "snapshot_tab_cents": snap.tab_cents,
        "snapshot_tip_percent": snap.tip_percent,
        "snapshot_tip_cents": snap.tip_cents,
        "snapshot_last_item_seq": snap.last_item_seq,
        "snapshot_version": snap.version,
        "snapshot_created_at": snap.created_at,
        "snapshot_shortfall_cents": snap.shortfall_cents,
        "link_closed": record.link_closed,
        "link_write_until": record.link_write_until,
    }


@dataclass(frozen=True, slots=True)
class WritePlan:
    """The child-table statements that turn the stored state into the new one.

    Attributes:
        delete_items: ``DELETE_ITEM`` parameters, one per item that left the tab.
        delete_items_through: ``DELETE_ITEMS_THROUGH`` parameters (items up to a seq).
        insert_items: ``INSERT_ITEM`` parameters, one per new item.
        upsert_payments: ``UPSERT_PAYMENT`` parameters, one per new or changed record.
        delete_payments: ``DELETE_PAYMENT`` parameters, one per record that left.
    """

    delete_items: list[Params] = field(default_factory=list)
    delete_items_through: list[Params] = field(default_factory=list)
    insert_items: list[Params] = field(default_factory=list)
    upsert_payments: list[Params] = field(default_factory=list)
    delete_payments: list[Params] = field(default_factory=list)

    def statements(self) -> list[tuple[str, list[Params]]]:
        """``(statement, parameter sets)`` in the order they must run; empty ones left out."""
        ordered = (
            (_schema.DELETE_ITEMS_THROUGH, self.delete_items_through),
            (_schema.DELETE_ITEM, self.delete_items),
            (_schema.INSERT_ITEM, self.insert_items),
            (_schema.DELETE_PAYMENT, self.delete_payments),
            (_schema.UPSERT_PAYMENT, self.upsert_payments),
        )
        return [(statement, rows) for statement, rows in ordered if rows]


def plan_writes(
    session_id: str,
    old_items: Sequence[OrderedItem],
    old_payments: Sequence[PaymentRecord],
    new: TabState,
) -> WritePlan:
    """What to write so the stored items and payments become ``new``'s.

    Items are keyed by ``seq`` and payments by idempotency key. An item whose content
    changed under the same ``seq`` (the rules never do that) is deleted and re-inserted,
    so the plan stays correct whatever a transition returns; likewise a payment record
    missing from ``new`` (the rules keep history, so they never drop one) is deleted.
    """
    plan = WritePlan()
    before = {item.seq: item for item in old_items}
    after = {item.seq: item for item in new.items}
    for seq, item in before.items():
        if not _same(after.get(seq), item):
            plan.delete_items.append({"session_id": session_id, "seq": seq})
    for seq, item in after.items():
        if not _same(before.get(seq), item):
            plan.insert_items.append(_item_params(session_id, item))
    old_positions = {record.idempotency_key: (i, record) for i, record in enumerate(old_payments)}
    for position, record in enumerate(new.payments):
        if old_positions.get(record.idempotency_key) != (position, record):
            plan.upsert_payments.append(_payment_params(session_id, position, record))
    kept = {record.idempotency_key for record in new.payments}
    for key in old_positions.keys() - kept:
        plan.delete_payments.append({"session_id": session_id, "idempotency_key": key})
    return plan


def _same(a: object, b: object) -> bool:
    # Rules keep the objects they do not change: identity settles nearly every comparison.
    return a is b or a == b


def plan_change(session_id: str, change: Change) -> WritePlan:
    """Exactly the statements ``change`` describes (the tab row is written by the caller)."""
    plan = WritePlan()
    if change.removed_through_seq > 0:
        plan.delete_items_through.append(
            {"session_id": session_id, "seq": change.removed_through_seq}
        )
    plan.insert_items.extend(_item_params(session_id, item) for item in change.added_items)
    payments = change.after.payments
    plan.upsert_payments.extend(
        _payment_params(session_id, at, payments[at]) for at in sorted(set(change.payments))
    )
    return plan
