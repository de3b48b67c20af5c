"""Money in cents: parsing what people type, formatting, percentages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maya.money import MAX_CENTS, MoneyError, format_cents, parse_cents, percent_of

EXAMPLES = settings(max_examples=200, deadline=None)


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("$12.50", 1250),
        ("12.5", 1250),
        ("12", 1200),
        ("12.", 1200),
        (".5", 50),
        ("  $ 7 ", 700),
        ("1,000", 100_000),
        ("$1,000.00", 100_000),
        ("0", 0),
        ("100000000.00", MAX_CENTS),
    ],
)
def test_parse_cents_accepts_what_people_type(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize(
    ("value", "cents"),
    [(12, 1200), (0, 0), (Decimal("3.10"), 310), (Decimal("1E+2"), 10_000)],
)
def test_parse_cents_reads_int_as_dollars_and_decimal_exactly(
    value: int | Decimal, cents: int
) -> None:
    assert parse_cents(value) == cents


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", "negative"),
        ("-$5", "negative"),
        ("abc", "not an amount"),
        ("", "not an amount"),
        ("12.345", "more than two decimals"),
        (Decimal("0.001"), "more than two decimals"),
        ("100000000.01", "absurdly large"),
        (MAX_CENTS, "absurdly large"),
        (-1, "negative"),
        (Decimal("-0.01"), "negative"),
        (Decimal("NaN"), "NaN"),
        (Decimal("sNaN"), "NaN"),
        (Decimal("Infinity"), "finite"),
        (1.5, "float"),
        (True, "bool"),
        (None, "NoneType"),
    ],
)
def test_parse_cents_refuses_what_is_not_money(value: Any, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        parse_cents(value)


def test_money_error_is_a_value_error() -> None:
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "$0.00"),
        (5, "$0.05"),
        (1250, "$12.50"),
        (100_000, "$1,000.00"),
        (-250, "-$2.50"),
        (MAX_CENTS, "$100,000,000.00"),
    ],
)
def test_format_cents(cents: int, text: str) -> None:
    assert format_cents(cents) == text


@pytest.mark.parametrize("value", [1.0, True, "12", Decimal(1)])
def test_format_cents_takes_only_int(value: Any) -> None:
    with pytest.raises(MoneyError, match="must be an int"):
        format_cents(value)


@pytest.mark.parametrize(
    ("cents", "percent", "expected"),
    [
        (1003, 15, 150),  # 150.45 rounds down
        (10, 15, 2),  # 1.5 rounds half-up
        (30, 15, 5),  # 4.5 rounds half-up, not to even
        (2600, 20, 520),
        (0, 10, 0),
        (999, 0, 0),
    ],
)
def test_percent_of_rounds_half_up(cents: int, percent: int, expected: int) -> None:
    assert percent_of(cents, percent) == expected


@pytest.mark.parametrize(("cents", "percent"), [(-1, 10), (100, -5)])
def test_percent_of_refuses_negatives(cents: int, percent: int) -> None:
    with pytest.raises(MoneyError, match="non-negative"):
        percent_of(cents, percent)


@EXAMPLES
@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_format_then_parse_is_identity(cents: int) -> None:
    assert parse_cents(format_cents(cents)) == cents


@EXAMPLES
@given(st.integers(min_value=0, max_value=MAX_CENTS))
def test_decimal_dollars_parse_to_the_same_cents(cents: int) -> None:
    assert parse_cents(Decimal(cents) / 100) == cents
    assert parse_cents(str(Decimal(cents) / 100)) == cents


@EXAMPLES
@given(st.integers(min_value=0, max_value=MAX_CENTS), st.integers(min_value=0, max_value=100))
def test_percent_of_matches_integer_half_up(cents: int, percent: int) -> None:
    # Half-up for non-negative numbers, in integers only: floor(x + 1/2).
    assert percent_of(cents, percent) == (cents * percent * 2 + 100) // 200


@EXAMPLES
@given(st.integers(min_value=-MAX_CENTS, max_value=MAX_CENTS))
def test_format_cents_shape(cents: int) -> None:
    text = format_cents(cents)
    assert text.startswith("-$" if cents < 0 else "$")
    assert text[-3] == "."
    assert int(text.replace("$", "").replace(",", "").replace(".", "")) == cents
