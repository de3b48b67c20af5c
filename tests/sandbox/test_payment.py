"""pay_link: the in-process way to pay, accepting any way of naming a link."""

from __future__ import annotations

from typing import Any

import pytest

from maya.sandbox import (
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    SandboxStore,
    check_card,
    pay_link,
)


def _link(store: SandboxStore) -> dict[str, Any]:
    product = store.create_product(name="Whiskey")
    price = store.create_price(product=product["id"], unit_amount=800, currency="usd")
    link = store.create_payment_link(line_items=[(price["id"], 1)])
    return link


@pytest.mark.parametrize(
    "name",
    [
        lambda link: link["id"],
        lambda link: "http://127.0.0.1:1" + link["url"],
        lambda link: "https://buy.example" + link["url"] + "/",
        lambda link: link["url"],
        lambda link: link["url"].removeprefix("/b/"),
    ],
)
def test_a_link_can_be_named_by_id_url_or_path(store: SandboxStore, name: Any) -> None:
    link = _link(store)
    result = pay_link(store, name(link), CARD_SUCCESS)
    assert result.paid
    assert result.payment_link == link["id"]


def test_insufficient_funds_is_a_decline_with_its_code(store: SandboxStore) -> None:
    result = pay_link(store, _link(store)["id"], "4000 0000 0000 9995")
    assert (result.outcome, result.decline_code) == ("declined", "insufficient_funds")
    assert result.message == "Your card has insufficient funds."
    assert result.session is not None
    assert result.session["status"] == "open"


def test_unknown_links_are_not_found(store: SandboxStore) -> None:
    assert pay_link(store, "plink_nope", CARD_SUCCESS).outcome == "not_found"
    assert pay_link(store, "https://example.com/elsewhere", CARD_SUCCESS).outcome == "not_found"


def test_cards_accept_spaces_and_dashes() -> None:
    assert check_card("4242-4242-4242-4242").result == "paid"
    assert check_card(f" {CARD_INSUFFICIENT_FUNDS} ").decline_code == "insufficient_funds"
    assert check_card("4242").result == "invalid"
