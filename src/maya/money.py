"""Money as integer cents: parsing, formatting and percentages.

Every amount in Maya is an ``int`` number of cents. ``Decimal`` appears only at the
edges (parsing what a person typed, computing a percentage) and is converted back to
cents with an explicit rounding rule. ``float`` never touches money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "MAX_CENTS",
    "Cents",
    "MoneyError",
    "format_cents",
    "parse_cents",
    "percent_of",
]

Cents = int
"""An amount of money in cents (US dollars here)."""

MAX_CENTS: Cents = 100_000_000_00
"""The largest amount Maya accepts anywhere: $100,000,000.00. Anything above is absurd."""

_AMOUNT = re.compile(r"^\s*\$?\s*(?P<number>[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)\s*$")


class MoneyError(ValueError):
    """An amount that cannot be money: negative, not a number, too precise or absurd."""


def parse_cents(value: str | int | Decimal) -> Cents:
    """Convert what a person or a config file says into cents.

    Accepts ``"$12.50"``, ``"12.5"``, ``"1,000"``, ``Decimal("3.10")`` and ``int``
    (an ``int`` is dollars, as a person would mean it: ``12`` is $12.00).

    Raises:
        MoneyError: for a negative, NaN or infinite value, more than two decimals,
            an amount above ``MAX_CENTS``, a ``float`` or ``bool``, or text that is not
            an amount.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MoneyError(f"amounts must be text, int or Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        match = _AMOUNT.match(value)
        if match is None:
            if value.strip().startswith("-"):
                raise MoneyError(f"amount must not be negative: {value.strip()!r}")
            raise MoneyError(f"not an amount of money: {value[:40]!r}")
        number = match["number"].replace(",", "")
        try:
            amount = Decimal(number)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise MoneyError(f"not an amount of money: {value[:40]!r}") from exc
    else:
        amount = Decimal(value)
    if amount.is_nan():
        raise MoneyError("amount must be a number, not NaN")
    if amount.is_infinite():
        raise MoneyError("amount must be finite")
    if amount < 0:
        raise MoneyError(f"amount must not be negative: {amount}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise MoneyError(f"amount has more than two decimals: {amount}")
    if amount * 100 > MAX_CENTS:
        raise MoneyError(f"amount is absurdly large: {amount}")
    return int(amount * 100)


def format_cents(cents: Cents) -> str:
    """Format cents for people: ``100000`` -> ``"$1,000.00"``, ``-250`` -> ``"-$2.50"``."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise MoneyError(f"cents must be an int, not {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), 100)
    return f"{sign}${dollars:,}.{rest:02d}"


def percent_of(cents: Cents, percent: int) -> Cents:
    """``percent`` percent of ``cents``, rounded half-up to the cent (15% of $10.03 is $1.50)."""
    if cents < 0 or percent < 0:
        raise MoneyError("percentages are taken of non-negative amounts only")
    exact = Decimal(cents) * Decimal(percent) / Decimal(100)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
