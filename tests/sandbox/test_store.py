"""The store keeps Stripe objects durably, atomically and safely across threads."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from maya.sandbox import SandboxStore, StripeError
from maya.sandbox.store import MEMORY, PaymentAttempt


def _link(store: SandboxStore, key: str | None = None, quantity: int = 1) -> dict[str, Any]:
    product = store.create_product(name="Negroni")
    price = store.create_price(product=product["id"], unit_amount=1100, currency="usd")
    metadata = {"idempotency_key": key} if key else {}
    return store.create_payment_link(line_items=[(price["id"], quantity)], metadata=metadata)


def test_objects_survive_reopening_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "sandbox.sqlite3"
    with SandboxStore(path) as store:
        link = _link(store, key="tab-1")
        store.record_payment(link["id"], PaymentAttempt(paid=True))
    with SandboxStore(path) as reopened:
        assert reopened.get_payment_link(link["id"]) == link
        sessions, _ = reopened.list_checkout_sessions(payment_link=link["id"])
        assert [s["payment_status"] for s in sessions] == ["paid"]


def test_a_commit_survives_the_process_without_waiting_for_the_disk(tmp_path: Path) -> None:
    # WAL with NORMAL: a killed process loses nothing committed; no fsync per commit.
    path = tmp_path / "sandbox.sqlite3"
    with SandboxStore(path) as store:
        modes = (
            store._conn.execute("PRAGMA journal_mode").fetchone()[0],
            store._conn.execute("PRAGMA synchronous").fetchone()[0],
        )
        link = _link(store)
        # Read by another connection before this one closes (or checkpoints): committed.
        other = sqlite3.connect(path)
        row = other.execute("SELECT doc FROM payment_links WHERE id = ?", (link["id"],))
        assert row.fetchone() is not None
        other.close()
    assert modes == ("wal", 1)


def test_ids_and_shapes_look_like_stripe(store: SandboxStore) -> None:
    link = _link(store, quantity=2)
    assert link["id"].startswith("plink_")
    assert link["url"].startswith("/b/test_")
    assert link["livemode"] is False
    item = link["line_items"]["data"][0]
    assert item["price"]["id"].startswith("price_")
    assert item["price"]["product"].startswith("prod_")
    assert (item["amount_total"], item["quantity"], item["description"]) == (2200, 2, "Negroni")


def test_the_same_idempotency_key_makes_a_second_link_as_at_stripe(store: SandboxStore) -> None:
    """Stripe does not deduplicate payment links by metadata, and neither does the sandbox."""
    first = _link(store, key="tab-1")
    price = first["line_items"]["data"][0]["price"]["id"]
    again = store.create_payment_link(
        line_items=[(price, 1)], metadata={"idempotency_key": "tab-1"}
    )
    assert again["id"] != first["id"]
    assert again["metadata"] == first["metadata"] == {"idempotency_key": "tab-1"}


def test_concurrent_creates_with_one_key_make_one_link_each(tmp_path: Path) -> None:
    with SandboxStore(tmp_path / "db.sqlite3") as store:
        product = store.create_product(name="Water")
        price = store.create_price(product=product["id"], unit_amount=100, currency="usd")

        def create(_: int) -> str:
            link = store.create_payment_link(
                line_items=[(price["id"], 1)], metadata={"idempotency_key": "same"}
            )
            return str(link["id"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = set(pool.map(create, range(32)))
        links, _ = store.list_payment_links(limit=100)
    assert len(ids) == len(links) == 32


def test_links_are_listed_newest_first_page_by_page(store: SandboxStore) -> None:
    made = [_link(store, key=f"k{n}")["id"] for n in range(5)]
    first, more = store.list_payment_links(limit=2)
    second, more_again = store.list_payment_links(limit=2, starting_after=first[-1]["id"])
    last, done = store.list_payment_links(limit=2, starting_after=second[-1]["id"])
    assert [link["id"] for link in first + second + last] == made[::-1]
    assert (more, more_again, done) == (True, True, False)
    with pytest.raises(StripeError):
        store.list_payment_links(starting_after="plink_unknown")


def test_a_decline_keeps_the_session_open_and_a_later_payment_completes_it(
    store: SandboxStore,
) -> None:
    link = _link(store)
    declined = store.record_payment(
        link["id"], PaymentAttempt(paid=False, decline_code="generic_decline", message="No.")
    )
    paid = store.record_payment(link["id"], PaymentAttempt(paid=True))
    assert declined["status"] == "open"
    assert declined["last_payment_error"]["decline_code"] == "generic_decline"
    assert paid["id"] == declined["id"]
    assert (paid["status"], paid["payment_status"], paid["amount_total"]) == (
        "complete",
        "paid",
        1100,
    )


def test_paying_an_inactive_link_is_refused(store: SandboxStore) -> None:
    link = _link(store)
    store.update_payment_link(link["id"], active=False)
    with pytest.raises(StripeError):
        store.record_payment(link["id"], PaymentAttempt(paid=True))
    assert store.list_checkout_sessions(payment_link=link["id"]) == ([], False)


def test_a_price_for_a_missing_product_is_resource_missing(store: SandboxStore) -> None:
    with pytest.raises(StripeError) as caught:
        store.create_price(product="prod_nope", unit_amount=100, currency="usd")
    assert (caught.value.code, caught.value.param) == ("resource_missing", "product")


def test_metadata_updates_merge_and_empty_values_remove_keys(store: SandboxStore) -> None:
    link = _link(store, key="k")
    updated = store.update_payment_link(link["id"], metadata={"idempotency_key": "", "tab": "7"})
    assert updated["metadata"] == {"tab": "7"}


def test_listing_is_newest_first_and_reports_more(store: SandboxStore) -> None:
    ids = [_link(store)["id"] for _ in range(3)]
    page, has_more = store.list_payment_links(limit=2)
    assert [link["id"] for link in page] == ids[::-1][:2]
    assert has_more


def test_the_checkout_port_comes_back_and_falls_back_when_taken(tmp_path: Path) -> None:
    from maya.sandbox.server import bind_checkout_socket, bind_socket

    ticks = iter(range(1_700_000_000, 1_800_000_000))
    with SandboxStore(tmp_path / "ports.sqlite3", clock=lambda: next(ticks)) as store:
        first = bind_checkout_socket(store, "127.0.0.1", 0)
        port = first.getsockname()[1]
        first.close()
        again = bind_checkout_socket(store, "127.0.0.1", 0)
        assert again.getsockname()[1] == port  # the remembered port, free again
        # While it is taken (another sandbox on this database), any free port will do.
        other = bind_checkout_socket(store, "127.0.0.1", 0)
        assert other.getsockname()[1] != port
        assert store.remembered_ports()[:2] == [other.getsockname()[1], port]
        again.close()
        other.close()
        explicit = bind_socket("127.0.0.1", 0)
        taken = explicit.getsockname()[1]
        explicit.listen(1)
        with pytest.raises(OSError):
            bind_checkout_socket(store, "127.0.0.1", taken)  # an explicit port is exact
        explicit.close()
    with SandboxStore(MEMORY) as memory:
        sock = bind_checkout_socket(memory, "127.0.0.1", 0)
        assert memory.remembered_ports() == []
        sock.close()
