"""The sandbox's Stripe account in SQLite: products, prices, payment links, sessions.

Objects are Stripe-shaped JSON with their lookup fields indexed; each method runs in one
``BEGIN IMMEDIATE`` transaction, so threads and processes sharing a file never race.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import string
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from maya.sandbox.errors import StripeError

__all__ = [
    "LINK_PATH_PREFIX",
    "MEMORY",
    "PaymentAttempt",
    "SandboxStore",
    "link_path",
]

MEMORY = ":memory:"
"""Pass as the store path for a database that lives only as long as the store (tests)."""

LINK_PATH_PREFIX = "/b/test_"
"""Checkout pages live under this path, mimicking ``https://buy.stripe.com/test_...``."""

_ALPHABET = string.ascii_letters + string.digits

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS prices (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS payment_links (
    id TEXT PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    idempotency_key TEXT,
    active INTEGER NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payment_links_idempotency ON payment_links (idempotency_key);
CREATE TABLE IF NOT EXISTS checkout_sessions (
    id TEXT PRIMARY KEY,
    payment_link TEXT NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS checkout_sessions_link ON checkout_sessions (payment_link);
CREATE TABLE IF NOT EXISTS served_ports (
    port INTEGER PRIMARY KEY,
    last_served REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    doc TEXT NOT NULL
);
"""

# Ports kept per database: one per sandbox that serves it at once (``maya serve --workers``
# starts one, ``maya chat`` sessions may run side by side), plus a few stale ones.
_REMEMBERED_PORTS = 8


def _random_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def link_path(token: str) -> str:
    """The checkout page path of the payment link with ``token``."""
    return f"{LINK_PATH_PREFIX}{token}"


@dataclass(frozen=True, slots=True)
class PaymentAttempt:
    """What a card did at checkout, as recorded on the Checkout Session.

    Attributes:
        paid: The card was charged.
        decline_code: Stripe's decline code when the card was declined.
        message: Stripe's customer-facing decline message.
    """

    paid: bool
    decline_code: str | None = None
    message: str | None = None
    processing: bool = False
    """A debit whose outcome comes later: the session completes ``unpaid``."""


class SandboxStore:
    """A durable, thread-safe home for the sandbox's Stripe objects.

    Args:
        path: SQLite database file (created with its parent directories), or
            ``MEMORY`` for a throwaway database.
        clock: Seconds since the epoch; tests pass a fixed clock.
    """

    def __init__(
        self, path: str | PathLike[str] = MEMORY, *, clock: Callable[[], float] = time.time
    ) -> None:
        target = str(path)
        if target != MEMORY:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        self.path = target
        self._clock = clock
        self._lock = threading.Lock()
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE in _transaction).
        self._conn = sqlite3.connect(
            target, check_same_thread=False, isolation_level=None, timeout=10.0
        )
        with self._lock:
            if target != MEMORY:
                # WAL, NORMAL: a commit survives the process (a restart finds every
                # object) without an fsync; a power cut may lose the last ones, which is
                # no loss for a stand-in of Stripe's test mode. The rollback journal's
                # fsyncs were most of the sandbox's CPU per payment (five commits).
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database connection; the store is unusable afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SandboxStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _now(self) -> int:
        return int(self._clock())

    # -- where the checkout pages were served ---------------------------------------

    def remembered_ports(self) -> list[int]:
        """Ports this database's checkout pages were served on, most recent first.

        Links handed out earlier carry one of them: serving there again keeps them alive.
        """
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT port FROM served_ports ORDER BY last_served DESC, port LIMIT ?",
                (_REMEMBERED_PORTS,),
            ).fetchall()
        return [int(port) for (port,) in rows]

    def remember_port(self, port: int) -> None:
        """Record that checkout pages are served on ``port`` now (a few are kept)."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO served_ports (port, last_served) VALUES (?, ?)"
                " ON CONFLICT (port) DO UPDATE SET last_served = excluded.last_served",
                (port, self._clock()),
            )
            conn.execute(
                "DELETE FROM served_ports WHERE port NOT IN"
                " (SELECT port FROM served_ports ORDER BY last_served DESC LIMIT ?)",
                (_REMEMBERED_PORTS,),
            )

    # -- products and prices -------------------------------------------------------

    def create_product(
        self,
        *,
        name: str,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a product (Stripe ``POST /v1/products``)."""
        now = self._now()
        doc: dict[str, Any] = {
            "id": _random_id("prod_", 14),
            "object": "product",
            "active": True,
            "created": now,
            "default_price": None,
            "description": description,
            "livemode": False,
            "metadata": dict(metadata or {}),
            "name": name,
            "type": "service",
            "updated": now,
            "url": None,
        }
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO products (id, doc) VALUES (?, ?)", (doc["id"], json.dumps(doc))
            )
        return doc

    def create_price(
        self,
        *,
        product: str,
        unit_amount: int,
        currency: str,
        metadata: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a one-time price in cents for an existing product.

        Raises:
            StripeError: ``resource_missing`` when the product does not exist.
        """
        doc: dict[str, Any] = {
            "id": _random_id("price_", 24),
            "object": "price",
            "active": True,
            "billing_scheme": "per_unit",
            "created": self._now(),
            "currency": currency,
            "livemode": False,
            "lookup_key": None,
            "metadata": dict(metadata or {}),
            "nickname": None,
            "product": product,
            "recurring": None,
            "tax_behavior": "unspecified",
            "type": "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
        with self._transaction() as conn:
            if _fetch_doc(conn, "SELECT doc FROM products WHERE id = ?", (product,)) is None:
                raise _missing("product", product, "product")
            conn.execute("INSERT INTO prices (id, doc) VALUES (?, ?)", (doc["id"], json.dumps(doc)))
        return doc

    # -- payment links -------------------------------------------------------------

    def create_payment_link(
        self,
        *,
        line_items: Sequence[tuple[str, int]],
        metadata: Mapping[str, str] | None = None,
        after_completion: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create a payment link (Stripe ``POST /v1/payment_links``).

        As at Stripe, every call makes a new link: metadata (an idempotency key among
        it) is stored, never used to deduplicate. Finding a link a lost write made is
        the client's job (list the links and match the metadata).

        Args:
            line_items: ``(price_id, quantity)`` pairs, all prices in one currency.
            metadata: Copied onto the link and onto its Checkout Sessions.
            after_completion: Stripe's ``after_completion`` object; defaults to a
                hosted confirmation page.

        Returns:
            The new link.

        Raises:
            StripeError: a price is missing or inactive, or currencies differ.
        """
        meta = dict(metadata or {})
        key = meta.get("idempotency_key") or None
        with self._transaction() as conn:
            items: list[dict[str, Any]] = []
            for index, (price_id, quantity) in enumerate(line_items):
                price = _fetch_doc(conn, "SELECT doc FROM prices WHERE id = ?", (price_id,))
                if price is None:
                    raise _missing("price", price_id, f"line_items[{index}][price]")
                if not price["active"]:
                    raise StripeError(
                        f"The price '{price_id}' is not active.",
                        param=f"line_items[{index}][price]",
                    )
                product = _fetch_doc(
                    conn, "SELECT doc FROM products WHERE id = ?", (price["product"],)
                )
                amount = price["unit_amount"] * quantity
                items.append(
                    {
                        "id": _random_id("li_", 24),
                        "object": "item",
                        "amount_subtotal": amount,
                        "amount_total": amount,
                        "currency": price["currency"],
                        "description": product["name"] if product else "",
                        "price": price,
                        "quantity": quantity,
                    }
                )
            currencies = {item["currency"] for item in items}
            if len(currencies) > 1:
                raise StripeError(
                    "All prices on a payment link must have the same currency.", param="line_items"
                )
            token = _random_id("", 24)
            link_id = _random_id("plink_", 24)
            doc: dict[str, Any] = {
                "id": link_id,
                "object": "payment_link",
                "active": True,
                "after_completion": dict(after_completion)
                if after_completion
                else {
                    "type": "hosted_confirmation",
                    "hosted_confirmation": {"custom_message": None},
                },
                "allow_promotion_codes": False,
                "billing_address_collection": "auto",
                "created": self._now(),
                "currency": items[0]["currency"],
                "line_items": {
                    "object": "list",
                    "data": items,
                    "has_more": False,
                    "url": f"/v1/payment_links/{link_id}/line_items",
                },
                "livemode": False,
                "metadata": meta,
                "url": link_path(token),
            }
            conn.execute(
                "INSERT INTO payment_links (id, token, idempotency_key, active, doc) "
                "VALUES (?, ?, ?, 1, ?)",
                (link_id, token, key, json.dumps(doc)),
            )
        return doc

    def get_payment_link(self, link_id: str) -> dict[str, Any] | None:
        """The payment link with ``link_id``, or None."""
        with self._transaction() as conn:
            return _fetch_doc(conn, "SELECT doc FROM payment_links WHERE id = ?", (link_id,))

    def find_payment_link(self, token: str) -> dict[str, Any] | None:
        """The payment link whose URL ends in ``test_<token>``, or None."""
        with self._transaction() as conn:
            return _fetch_doc(conn, "SELECT doc FROM payment_links WHERE token = ?", (token,))

    def list_payment_links(
        self, *, active: bool | None = None, limit: int = 10, starting_after: str | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Payment links, newest first, optionally only (in)active ones.

        Args:
            active: Only active (True) or inactive (False) links.
            limit: Page size.
            starting_after: A link id: the page starts with the next older link.

        Returns:
            Up to ``limit`` links and whether more exist.

        Raises:
            StripeError: ``resource_missing`` when ``starting_after`` names no link.
        """
        clauses: list[str] = []
        args: list[Any] = []
        if active is not None:
            clauses.append("active = ?")
            args.append(int(active))
        with self._transaction() as conn:
            if starting_after is not None:
                row = conn.execute(
                    "SELECT rowid FROM payment_links WHERE id = ?", (starting_after,)
                ).fetchone()
                if row is None:
                    raise _missing("payment_link", starting_after, "starting_after")
                clauses.append("rowid < ?")
                args.append(row[0])
            where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
            docs = _fetch_docs(
                conn,
                f"SELECT doc FROM payment_links{where} ORDER BY rowid DESC LIMIT ?",
                (*args, limit + 1),
            )
        return docs[:limit], len(docs) > limit

    def update_payment_link(
        self,
        link_id: str,
        *,
        active: bool | None = None,
        metadata: Mapping[str, str] | None = None,
        after_completion: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Update a payment link; ``active=False`` deactivates it.

        Metadata merges as in Stripe: an empty string value removes that key.

        Raises:
            StripeError: ``resource_missing`` when the link does not exist.
        """
        with self._transaction() as conn:
            doc = _fetch_doc(conn, "SELECT doc FROM payment_links WHERE id = ?", (link_id,))
            if doc is None:
                raise _missing("payment_link", link_id, "payment_link")
            if active is not None:
                doc["active"] = active
            if metadata is not None:
                merged = {**doc["metadata"], **metadata}
                doc["metadata"] = {k: v for k, v in merged.items() if v != ""}
            if after_completion is not None:
                doc["after_completion"] = dict(after_completion)
            conn.execute(
                "UPDATE payment_links SET active = ?, idempotency_key = ?, doc = ? WHERE id = ?",
                (
                    int(doc["active"]),
                    doc["metadata"].get("idempotency_key") or None,
                    json.dumps(doc),
                    link_id,
                ),
            )
        return doc

    # -- checkout sessions ---------------------------------------------------------

    def list_checkout_sessions(
        self, *, payment_link: str | None = None, status: str | None = None, limit: int = 10
    ) -> tuple[list[dict[str, Any]], bool]:
        """Checkout Sessions, newest first, optionally for one link and/or in one status.

        Returns:
            Up to ``limit`` sessions and whether more exist.
        """
        clauses: list[str] = []
        args: list[Any] = []
        if payment_link is not None:
            clauses.append("payment_link = ?")
            args.append(payment_link)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._transaction() as conn:
            docs = _fetch_docs(
                conn,
                f"SELECT doc FROM checkout_sessions{where} ORDER BY rowid DESC LIMIT ?",
                (*args, limit + 1),
            )
        return docs[:limit], len(docs) > limit

    def record_payment(self, link_id: str, attempt: PaymentAttempt) -> dict[str, Any]:
        """Record a card attempt on the link's open Checkout Session (opening one if needed).

        A declined card leaves the session ``open``/``unpaid`` with
        ``last_payment_error`` set, so the customer can try another card on the same
        session; a paid one completes it. A link can be paid more than once, as on
        Stripe, each time on a fresh session.

        Returns:
            The session after the attempt.

        Raises:
            StripeError: the link does not exist or is no longer active.
        """
        with self._transaction() as conn:
            link = _fetch_doc(conn, "SELECT doc FROM payment_links WHERE id = ?", (link_id,))
            if link is None:
                raise _missing("payment_link", link_id, "payment_link")
            if not link["active"]:
                raise StripeError("This payment link is no longer active.", param="payment_link")
            session = _fetch_doc(
                conn,
                "SELECT doc FROM checkout_sessions WHERE payment_link = ? AND status = 'open' "
                "ORDER BY rowid DESC LIMIT 1",
                (link_id,),
            )
            if session is None:
                session = self._new_session(link)
                conn.execute(
                    "INSERT INTO checkout_sessions (id, payment_link, status, doc) "
                    "VALUES (?, ?, 'open', ?)",
                    (session["id"], link_id, json.dumps(session)),
                )
            if session["payment_intent"] is None:
                session["payment_intent"] = _random_id("pi_", 24)
            if attempt.paid:
                session["status"] = "complete"
                session["payment_status"] = "paid"
                session["last_payment_error"] = None
            elif attempt.processing:
                session["status"] = "complete"
                session["payment_status"] = "unpaid"
                session["payment_method_types"] = ["sepa_debit"]
                session["last_payment_error"] = None
            else:
                session["last_payment_error"] = {
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": attempt.decline_code,
                    "message": attempt.message,
                }
            conn.execute(
                "UPDATE checkout_sessions SET status = ?, doc = ? WHERE id = ?",
                (session["status"], json.dumps(session), session["id"]),
            )
        return session

    def finish_async_payment(self, session_id: str, *, succeeded: bool) -> dict[str, Any] | None:
        """The later outcome of a session that completed ``unpaid`` (a debit).

        Succeeded: ``payment_status`` becomes ``paid``. Failed: it stays ``unpaid`` with
        ``last_payment_error`` set, as Stripe leaves it. Returns the session, or None
        when it is not one waiting for an outcome (nothing changes).
        """
        with self._transaction() as conn:
            session = _fetch_doc(
                conn, "SELECT doc FROM checkout_sessions WHERE id = ?", (session_id,)
            )
            if session is None or (session["status"], session["payment_status"]) != (
                "complete",
                "unpaid",
            ):
                return None
            if succeeded:
                session["payment_status"] = "paid"
            else:
                session["last_payment_error"] = {
                    "type": "invalid_request_error",
                    "code": "payment_intent_payment_attempt_failed",
                    "decline_code": "debit_failed",
                    "message": "The debit failed.",
                }
            conn.execute(
                "UPDATE checkout_sessions SET doc = ? WHERE id = ?",
                (json.dumps(session), session_id),
            )
        return session

    def expire_open_sessions(self, link_id: str) -> list[dict[str, Any]]:
        """End the link's open Checkout Sessions (``status: expired``), as Stripe's
        ``expire`` does or time does after ``expires_at``; the link stays payable (a new
        session opens on the next attempt).

        Returns:
            The sessions that expired (none when no session was open).
        """
        with self._transaction() as conn:
            sessions = _fetch_docs(
                conn,
                "SELECT doc FROM checkout_sessions WHERE payment_link = ? AND status = 'open'",
                (link_id,),
            )
            for session in sessions:
                session["status"] = "expired"
                conn.execute(
                    "UPDATE checkout_sessions SET status = 'expired', doc = ? WHERE id = ?",
                    (json.dumps(session), session["id"]),
                )
        return sessions

    # -- events (what the sandbox sent to the webhook) ------------------------------

    def record_event(self, event: dict[str, Any]) -> None:
        """Keep an event the sandbox is about to send (``maya sandbox events`` lists it)."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO events (id, type, created, doc) VALUES (?, ?, ?, ?)",
                (event["id"], event["type"], event["created"], json.dumps(event)),
            )

    def note_delivery(self, event_id: str, status: int | None) -> None:
        """Count one delivery attempt of ``event_id`` and its HTTP status (None: no answer)."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE events SET attempts = attempts + 1, last_status = ? WHERE id = ?",
                (status, event_id),
            )

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """The event with this id, as sent."""
        with self._transaction() as conn:
            return _fetch_doc(conn, "SELECT doc FROM events WHERE id = ?", (event_id,))

    def list_events(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """The newest events first: ``id``, ``type``, ``created``, ``attempts``, ``last_status``."""
        with self._transaction() as conn:
            rows = conn.execute(
                "SELECT id, type, created, attempts, last_status FROM events"
                " ORDER BY created DESC, rowid DESC LIMIT ?",
                (limit,),
            ).fetchall()
        keys = ("id", "type", "created", "attempts", "last_status")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def _new_session(self, link: dict[str, Any]) -> dict[str, Any]:
        now = self._now()
        amount = sum(item["amount_total"] for item in link["line_items"]["data"])
        return {
            "id": _random_id("cs_test_", 58),
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "created": now,
            "currency": link["currency"],
            "expires_at": now + 24 * 3600,
            "last_payment_error": None,
            "livemode": False,
            "metadata": dict(link["metadata"]),
            "mode": "payment",
            "payment_intent": None,
            "payment_link": link["id"],
            "payment_status": "unpaid",
            "status": "open",
            "url": None,
        }


def _missing(kind: str, object_id: str, param: str) -> StripeError:
    return StripeError(f"No such {kind}: '{object_id}'", param=param, code="resource_missing")


def _fetch_doc(
    conn: sqlite3.Connection, query: str, args: tuple[Any, ...]
) -> dict[str, Any] | None:
    row = conn.execute(query, args).fetchone()
    if row is None:
        return None
    doc: dict[str, Any] = json.loads(row[0])
    return doc


def _fetch_docs(
    conn: sqlite3.Connection, query: str, args: tuple[Any, ...]
) -> list[dict[str, Any]]:
    return [json.loads(row[0]) for row in conn.execute(query, args).fetchall()]
