"""The SQL both stores speak: one schema, one set of statements, two paramstyles.

Statements use ``:name`` parameters (``for_postgres`` converts them); the DDL's types make
money a 64-bit integer in both engines, never a float.
"""

from __future__ import annotations

import re
from functools import cache

from maya.state.errors import StoreError

__all__ = [
    "CONVERSATIONS_DDL",
    "DDL",
    "DELETE_ITEM",
    "DELETE_ITEMS_THROUGH",
    "DELETE_PAYMENT",
    "EVENTS_DDL",
    "INSERT_ITEM",
    "INSERT_TAB",
    "LINK_WRITE_DDL",
    "MIGRATIONS",
    "OUTCOMES_DDL",
    "PAYMENT_COLUMNS",
    "PAYMENT_ID_INDEX",
    "SCHEMA_TABLE_DDL",
    "SCHEMA_VERSION",
    "SELECT_ITEMS",
    "SELECT_PAYMENTS",
    "SELECT_SCHEMA_VERSION",
    "SELECT_SESSION_IDS",
    "SELECT_TAB",
    "SET_SCHEMA_VERSION",
    "UPDATE_TAB",
    "UPSERT_PAYMENT",
    "for_postgres",
    "upgrade_statements",
]

SCHEMA_VERSION = 6
"""The schema this code reads and writes. A database at a higher version is refused."""

SCHEMA_TABLE_DDL = (
    "CREATE TABLE IF NOT EXISTS maya_schema ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL)"
)
SELECT_SCHEMA_VERSION = "SELECT version FROM maya_schema WHERE id = 1"
SET_SCHEMA_VERSION = (
    "INSERT INTO maya_schema (id, version) VALUES (1, :version)"
    " ON CONFLICT (id) DO UPDATE SET version = excluded.version"
)

DDL: tuple[str, ...] = (
    # updated_at is Unix seconds; it is for people looking at the table, never read back.
    """CREATE TABLE IF NOT EXISTS tabs (
        session_id TEXT PRIMARY KEY,
        balance_cents BIGINT NOT NULL CHECK (balance_cents >= 0),
        tab_cents BIGINT NOT NULL CHECK (tab_cents >= 0),
        next_item_seq BIGINT NOT NULL,
        tip_percent INTEGER NULL CHECK (tip_percent IN (10, 15, 20)),
        credit_cents BIGINT NOT NULL CHECK (credit_cents >= 0),
        needs_reconciliation BOOLEAN NOT NULL,
        version BIGINT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS tab_items (
        session_id TEXT NOT NULL REFERENCES tabs (session_id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        name TEXT NOT NULL,
        unit_price_cents BIGINT NOT NULL CHECK (unit_price_cents >= 0),
        quantity INTEGER NOT NULL CHECK (quantity > 0),
        modifiers TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS payments (
        session_id TEXT NOT NULL REFERENCES tabs (session_id) ON DELETE CASCADE,
        idempotency_key TEXT NOT NULL,
        position INTEGER NOT NULL,
        payment_id TEXT NULL,
        url TEXT NULL,
        is_simulated BOOLEAN NOT NULL,
        status TEXT NOT NULL,
        superseded BOOLEAN NOT NULL,
        amount_paid_cents BIGINT NULL,
        snapshot_tab_cents BIGINT NOT NULL,
        snapshot_tip_percent INTEGER NULL,
        snapshot_tip_cents BIGINT NOT NULL,
        snapshot_last_item_seq BIGINT NOT NULL,
        snapshot_version BIGINT NOT NULL,
        snapshot_created_at BIGINT NOT NULL,
        PRIMARY KEY (session_id, idempotency_key)
    )""",
    # A Stripe payment link id belongs to one session only; the index also serves a
    # lookup by payment id (a webhook names the link, not the session).
    "CREATE UNIQUE INDEX IF NOT EXISTS payments_payment_id ON payments (payment_id)",
)
PAYMENT_ID_INDEX = "payments_payment_id"
"""The unique index that keeps a payment link id to one session."""
"""Version 1 of the schema, idempotent (``IF NOT EXISTS``) so a rerun is harmless."""

EVENTS_DDL: tuple[str, ...] = (
    # Every Stripe event received, by id: recorded in the transaction that applies it,
    # so a redelivery finds its id and changes nothing. ``outcome`` is an
    # ``events.EventOutcome``; ``pending`` events wait for their link to be recorded.
    # No foreign key to tabs: an event may name a link no session has recorded yet.
    """CREATE TABLE IF NOT EXISTS stripe_events (
        event_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        payment_link TEXT NULL,
        idempotency_key TEXT NULL,
        payment_status TEXT NULL,
        amount_total BIGINT NULL,
        checkout_session TEXT NULL,
        paid BOOLEAN NOT NULL,
        created BIGINT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        outcome TEXT NOT NULL,
        session_id TEXT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS stripe_events_pending ON stripe_events (payment_link)"
    " WHERE outcome = 'pending'",
)
"""Version 2: the webhook's event log (exactly-once delivery, events kept for later links)."""

OUTCOMES_DDL: tuple[str, ...] = (
    # What a short payment left owed; what a paid link's snapshot charged for an earlier
    # shortfall; whether a link was deactivated at Stripe; an event's currency and mode
    # (a wrong one is kept with outcome wrong_currency / wrong_mode). Defaults keep old
    # rows true.
    "ALTER TABLE tabs ADD COLUMN shortfall_cents BIGINT NOT NULL DEFAULT 0"
    " CHECK (shortfall_cents >= 0)",
    "ALTER TABLE payments ADD COLUMN snapshot_shortfall_cents BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE payments ADD COLUMN link_closed BOOLEAN NOT NULL DEFAULT FALSE",
    "ALTER TABLE stripe_events ADD COLUMN currency TEXT NULL",
    "ALTER TABLE stripe_events ADD COLUMN livemode BOOLEAN NULL",
)
"""Version 3: money in = money recorded (shortfalls owed) and links closed at Stripe."""


CURRENCY_DDL: tuple[str, ...] = (
    # Tabs written before currencies were kept were all in US dollars.
    "ALTER TABLE tabs ADD COLUMN currency TEXT NOT NULL DEFAULT 'usd'",
)
"""Version 4: each tab's ISO 4217 currency (its amounts are in that currency's minor unit)."""


LINK_WRITE_DDL: tuple[str, ...] = (
    "ALTER TABLE payments ADD COLUMN link_write_until DOUBLE PRECISION NULL",
)
"""Version 5: the durable "link write sent" mark of a payment (``PaymentRecord``)."""


CONVERSATIONS_DDL: tuple[str, ...] = (
    # last_at is Unix seconds (the agent's clock); turns_total counts every turn ever
    # appended, so turn numbers keep rising while old turns are dropped.
    """CREATE TABLE IF NOT EXISTS conversations (
        session_id TEXT PRIMARY KEY,
        turns_total BIGINT NOT NULL,
        last_at DOUBLE PRECISION NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS conversations_last_at ON conversations (last_at)",
    # No foreign key to tabs: a conversation may begin before its tab is first written.
    """CREATE TABLE IF NOT EXISTS conversation_turns (
        session_id TEXT NOT NULL REFERENCES conversations (session_id) ON DELETE CASCADE,
        seq BIGINT NOT NULL,
        body TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (session_id, seq)
    )""",
)
"""Version 6: conversation memory."""


MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: EVENTS_DDL,
    2: OUTCOMES_DDL,
    3: CURRENCY_DDL,
    4: LINK_WRITE_DDL,
    5: CONVERSATIONS_DDL,
}
"""Statements that take the schema from version ``key`` to ``key + 1``.

A change to the tables adds an entry here and bumps ``SCHEMA_VERSION``; a new database
runs ``DDL`` and then every migration.
"""

SELECT_TAB = (
    "SELECT balance_cents, tab_cents, next_item_seq, tip_percent, credit_cents,"
    " needs_reconciliation, version, shortfall_cents, currency"
    " FROM tabs WHERE session_id = :session_id"
)
SELECT_ITEMS = (
    "SELECT seq, name, unit_price_cents, quantity, modifiers FROM tab_items"
    " WHERE session_id = :session_id ORDER BY seq"
)
PAYMENT_COLUMNS = (
    "idempotency_key",
    "position",
    "payment_id",
    "url",
    "is_simulated",
    "status",
    "superseded",
    "amount_paid_cents",
    "snapshot_tab_cents",
    "snapshot_tip_percent",
    "snapshot_tip_cents",
    "snapshot_last_item_seq",
    "snapshot_version",
    "snapshot_created_at",
    "snapshot_shortfall_cents",
    "link_closed",
    "link_write_until",
)
SELECT_PAYMENTS = (
    f"SELECT {', '.join(PAYMENT_COLUMNS)} FROM payments"
    " WHERE session_id = :session_id ORDER BY position"
)
SELECT_SESSION_IDS = "SELECT session_id FROM tabs"

_TAB_VALUES = (
    "balance_cents",
    "tab_cents",
    "next_item_seq",
    "tip_percent",
    "credit_cents",
    "needs_reconciliation",
    "version",
    "updated_at",
    "shortfall_cents",
    "currency",
)
INSERT_TAB = (
    f"INSERT INTO tabs (session_id, {', '.join(_TAB_VALUES)})"
    f" VALUES (:session_id, {', '.join(':' + c for c in _TAB_VALUES)})"
    " ON CONFLICT (session_id) DO NOTHING"
)
"""Claims a new session's row; a concurrent first write makes this a no-op, not an error."""

UPDATE_TAB = (
    f"UPDATE tabs SET {', '.join(f'{c} = :{c}' for c in _TAB_VALUES)}"
    " WHERE session_id = :session_id AND version = :old_version"
)
"""The ``version`` guard is a second line of defence: the row is already held."""

HEAD_COLUMNS = tuple(c for c in _TAB_VALUES if c not in ("version", "updated_at"))
"""The tab row's columns besides ``version`` that ``SELECT_TAB`` reads (``_rows.Head``),
each named as ``TabState`` names it."""
NO_TIP = -1
"""What ``UPDATE_KNOWN_TAB`` compares a NULL ``tip_percent`` as (never a tip): ``=``
works alike in any SQLite and PostgreSQL, ``IS NOT DISTINCT FROM`` not before 3.39."""
UPDATE_KNOWN_TAB = UPDATE_TAB + "".join(
    f" AND COALESCE(tip_percent, {NO_TIP}) = :old_tip_percent"
    if c == "tip_percent"
    else f" AND {c} = :old_{c}"
    for c in HEAD_COLUMNS
)
"""Writes the row only if it still holds exactly the state the store remembers (its
version and every value ``SELECT_TAB`` would read): the write itself checks what a read
under lock would have (no row: 0 rows updated)."""

INSERT_ITEM = (
    "INSERT INTO tab_items (session_id, seq, name, unit_price_cents, quantity, modifiers)"
    " VALUES (:session_id, :seq, :name, :unit_price_cents, :quantity, :modifiers)"
)
DELETE_ITEM = "DELETE FROM tab_items WHERE session_id = :session_id AND seq = :seq"
DELETE_ITEMS_THROUGH = "DELETE FROM tab_items WHERE session_id = :session_id AND seq <= :seq"

_ALL_PAYMENT = ("session_id", *PAYMENT_COLUMNS)
UPSERT_PAYMENT = (
    f"INSERT INTO payments ({', '.join(_ALL_PAYMENT)})"
    f" VALUES ({', '.join(':' + c for c in _ALL_PAYMENT)})"
    " ON CONFLICT (session_id, idempotency_key) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in PAYMENT_COLUMNS[1:])
)
DELETE_PAYMENT = (
    "DELETE FROM payments WHERE session_id = :session_id AND idempotency_key = :idempotency_key"
)

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@cache  # a few dozen statements, each rewritten once
def for_postgres(statement: str) -> str:
    """``statement`` with ``:name`` parameters rewritten as psycopg's ``%(name)s``."""
    return _NAMED.sub(r"%(\1)s", statement)


def upgrade_statements(found: int | None, *, database: str) -> list[str]:
    """The statements that bring a database at schema ``found`` to ``SCHEMA_VERSION``.

    ``found`` is None for a database that has no Maya tables yet; ``database`` names it
    (a path, or a connection string without its password) in the error.

    Raises:
        StoreError: when the database was written by a newer Maya, whose tables this
            code would misread.
    """
    if found is None:
        found = 1
        first: list[str] = list(DDL)
    else:
        first = []
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"{database} is at schema version {found}, newer than this Maya's "
            f"{SCHEMA_VERSION}: upgrade Maya to use it"
        )
    return first + [
        statement for version in range(found, SCHEMA_VERSION) for statement in MIGRATIONS[version]
    ]
