"""Maya's words: every error code has a template that renders cleanly; broken ones fall back."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from maya.bar.menu import bar_messages
from maya.codes import ErrorCode
from maya.messages import FALLBACK_SENTENCE, MessagesError
from maya.tools import MessageBook, load_messages

SAMPLE_DETAILS = {
    "item": "Martini",
    "quantity": 2,
    "unit_price": "$13.00",
    "price": "$26.00",
    "balance": "$4.00",
    "shortfall": "$22.00",
    "suggestions": ["Martini", "Manhattan"],
    "modifier": "frozen",
    "allowed": ["gin", "vodka"],
    "max": 20,
    "percent": 13,
    "tab": "$0.00",
    "payment_id": "plink_1",
    "reason": "insufficient funds",
    "tool": "fly",
    "available": ["order_drink", "get_bill"],
    "problems": "quantity: required",
    "amount": "$12.00",
    "url": "https://buy.stripe.com/test_1",
}

PLACEHOLDER = re.compile(r"\{[^}]*\}")


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_a_template_that_renders_without_placeholders(
    code: ErrorCode,
) -> None:
    book = bar_messages()
    assert book.has(code), f"prompts/messages.yaml has no message for {code}"
    for details in (SAMPLE_DETAILS, {}):
        text = book.render(code, details, fallback="<fallback>")
        assert text != "<fallback>", f"{code} has no template that fits {sorted(details)}"
        assert not PLACEHOLDER.search(text), text


def test_insufficient_funds_names_the_drink_its_price_and_the_balance_left() -> None:
    text = bar_messages().render(ErrorCode.INSUFFICIENT_FUNDS, SAMPLE_DETAILS)
    assert "Martini" in text and "$26.00" in text and "$4.00" in text


def test_payment_messages_say_what_to_do_next() -> None:
    book = bar_messages()
    assert "another way" in book.render(ErrorCode.STRIPE_UNAVAILABLE)
    assert "again" in book.render(ErrorCode.PAYMENT_STATUS_TIMEOUT)
    declined = book.render(ErrorCode.PAYMENT_DECLINED, {"reason": "generic decline"})
    assert "another card" in declined and "generic decline" in declined


def test_the_most_specific_template_whose_details_are_all_there_is_used() -> None:
    book = bar_messages()
    with_suggestions = book.render(
        ErrorCode.UNKNOWN_ITEM, {"item": "Martni", "suggestions": ["Martini"]}
    )
    assert "Did you mean Martini?" in with_suggestions
    without = book.render(ErrorCode.UNKNOWN_ITEM, {"item": "Soup", "suggestions": []})
    assert "Soup" in without and "Did you mean" not in without


def test_a_missing_messages_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(MessagesError, match=r"absent\.yaml"):
        load_messages(tmp_path / "absent.yaml")


def test_a_book_without_a_template_falls_back_to_plain_sentences() -> None:
    book = MessageBook({})
    assert book.render(ErrorCode.INSUFFICIENT_FUNDS, SAMPLE_DETAILS) == FALLBACK_SENTENCE
    assert book.render(ErrorCode.NOTHING_TO_PAY, fallback="Nothing to pay.") == "Nothing to pay."


@pytest.mark.parametrize(
    "text",
    [
        "INSUFFICIENT_FUNDS: [unclosed",
        "just a string",
        "INSUFFICIENT_FUNDS: 12",
        "INSUFFICIENT_FUNDS: 'You have {balance'",
        "INSUFFICIENT_FUNDS: '{item.__class__}'",
        "INSUFFICIENT_FUNDS: '{item!r}'",
        "INSUFFICIENT_FUNDS: '{0}'",
        "INSUFFICIENT_FUNDS: 'Only {nonexistent} left'",
    ],
)
def test_a_broken_template_falls_back_and_never_raises(
    text: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="maya.tools")
    book = MessageBook.from_yaml(text, source="test.yaml")
    rendered = book.render(ErrorCode.INSUFFICIENT_FUNDS, SAMPLE_DETAILS, fallback="Too dear.")
    assert rendered == "Too dear."
    assert caplog.records, "a broken template is logged"


def test_a_broken_entry_does_not_spoil_the_others() -> None:
    book = MessageBook.from_yaml(
        "NOTHING_TO_PAY: ['{tab.x}', 'Nothing to pay, your tab is {tab}.']\nUNKNOWN_ITEM: 7\n"
    )
    assert (
        book.render(ErrorCode.NOTHING_TO_PAY, {"tab": "$0.00"})
        == "Nothing to pay, your tab is $0.00."
    )
    assert not book.has(ErrorCode.UNKNOWN_ITEM)


def test_braces_in_details_are_not_formatted_again() -> None:
    book = MessageBook.from_yaml("UNKNOWN_ITEM: 'No {item} here.'")
    assert book.render(ErrorCode.UNKNOWN_ITEM, {"item": "{balance}"}) == "No {balance} here."
