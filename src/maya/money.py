"""Money as integers in a currency's minor unit: parsing, formatting and percentages.

``Decimal`` only at the edges (what a person typed, a percentage), rounded back explicitly;
``float`` never touches money.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = [
    "MAX_CENTS",
    "MAX_CHARGE",
    "Cents",
    "MoneyError",
    "charge_problem",
    "charge_step",
    "check_currency",
    "check_iso_currency",
    "format_amount",
    "format_cents",
    "minor_units",
    "parse_amount",
    "parse_cents",
    "percent_of",
]

Cents = int
"""An amount of money in its currency's minor unit (cents for USD; the name is historic)."""

ZERO_DECIMAL: frozenset[str] = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
"""Currencies without a minor unit at Stripe: ``3100`` JPY is ¥3,100."""

THREE_DECIMAL: frozenset[str] = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
"""Currencies with three decimals; Stripe takes their amounts only when they end in 0."""

_SYMBOLS: dict[str, str] = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "cny": "CN¥",
    "inr": "₹",
    "krw": "₩",
    "cad": "CA$",
    "aud": "A$",
    "chf": "CHF ",
}

_CURRENCY = re.compile(r"^[a-z]{3}$")

ISO_4217: frozenset[str] = frozenset(
    """
    aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob bov brl bsd
    btn bwp byn bzd cad cdf che chf chw clf clp cny cop cou crc cuc cup cve czk djf dkk dop
    dzd egp ern etb eur fjd fkp gbp gel ghs gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr
    iqd irr isk jmd jod jpy kes kgs khr kmf kpw krw kwd kyd kzt lak lbp lkr lrd lsl lyd mad
    mdl mga mkd mmk mnt mop mru mur mvr mwk mxn mxv myr mzn nad ngn nio nok npr nzd omr pab
    pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sdg sek sgd shp sle sll sos srd
    ssp stn svc syp szl thb tjs tmt tnd top try ttd twd tzs uah ugx usd usn uyi uyu uyw uzs
    ved ves vnd vuv wst xaf xcd xcg xof xpf yer zar zmw zwg zwl
    byr hrk ltl lvl mro std vef
    """.split()  # noqa: SIM905 - a table, read as one
)
"""The ISO 4217 codes of money (today's, and the recently withdrawn ones Stripe still
names: ``hrk``, ``std``, ``vef``...): what a merchant may price a catalog in."""
_WORDS = {2: "two", 3: "three"}

MAX_CENTS: Cents = 100_000_000_00
"""The largest amount Maya accepts anywhere: $100,000,000.00. Anything above is absurd."""

MAX_CHARGE: Cents = 99_999_999
"""The most one card payment can take at Stripe, in the currency's minor unit ($999,999.99):
no price, tab or bill above it can be paid."""

_AMOUNT = re.compile(
    r"^\s*(?P<symbol>[€£₹₩]|CN¥|¥|[A-Z]{0,3}\$)?\s*"
    r"(?P<number>[0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)\s*$"
)
_GROUPED = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?$")
"""Commas only between groups of three digits: ``1,000.50``, never ``1,20`` (a decimal
comma, a hundred times the price if the comma were dropped)."""

_SIGN_CURRENCIES: dict[str, frozenset[str]] = {
    "€": frozenset(["eur"]),
    "£": frozenset(["gbp"]),
    "¥": frozenset(["jpy", "cny"]),
    "CN¥": frozenset(["cny"]),
    "₹": frozenset(["inr"]),
    "₩": frozenset(["krw"]),
    # Dollars, and the pesos and reals written with the same sign.
    "$": frozenset(
        "usd cad aud nzd hkd sgd twd mxn ars clp cop uyu dop cup brl bsd bbd bzd"  # noqa: SIM905
        " bmd kyd xcd fjd gyd jmd lrd nad sbd srd ttd cve".split()
    ),
    "R$": frozenset(["brl"]),
    "NT$": frozenset(["twd"]),
}
"""The currencies each sign may be written for: an amount written in another currency's
sign (``$4.50`` for a euro price) is refused, never read as the catalog's currency."""


def _sign_fits(sign: str, code: str) -> bool:
    known = _SIGN_CURRENCIES.get(sign)
    if known is not None:
        return code in known
    # "CA$", "A$", "US$", "HK$": the letters begin the dollar's code.
    return sign.endswith("$") and code.startswith(sign[:-1].lower())


class MoneyError(ValueError):
    """An amount that cannot be money: negative, not a number, too precise or absurd."""


def check_currency(currency: object) -> str:
    """Return ``currency`` lower-cased if it is a three-letter ISO 4217 code.

    Raises:
        MoneyError: for anything else.
    """
    code = currency.strip().lower() if isinstance(currency, str) else ""
    if not _CURRENCY.match(code):
        raise MoneyError(f"a currency is a three-letter ISO 4217 code, not {str(currency)[:20]!r}")
    return code


def check_iso_currency(currency: object) -> str:
    """Return ``currency`` lower-cased if it is the ISO 4217 code of a currency
    (``ISO_4217``): ``"EUR"`` -> ``"eur"``, never ``"xyz"``. For what a merchant chooses
    (a catalog's currency); amounts others report are only checked to be three letters
    (``check_currency``).

    Raises:
        MoneyError: for anything else.
    """
    code = check_currency(currency)
    if code not in ISO_4217:
        raise MoneyError(f"{code.upper()} is not an ISO 4217 currency code (EUR, USD, JPY...)")
    return code


def minor_units(currency: str) -> int:
    """How many decimals ``currency`` has: 0 for JPY, 3 for KWD, 2 for USD, EUR and most.

    Raises:
        MoneyError: ``currency`` is not a three-letter code.
    """
    code = check_currency(currency)
    if code in ZERO_DECIMAL:
        return 0
    return 3 if code in THREE_DECIMAL else 2


def parse_cents(value: str | int | Decimal) -> Cents:
    """Convert what a person or a config file says into cents.

    Accepts ``"$12.50"``, ``"12.5"``, ``"1,000"``, ``Decimal("3.10")`` and ``int``
    (an ``int`` is dollars, as a person would mean it: ``12`` is $12.00).

    Raises:
        MoneyError: for a negative, NaN or infinite value, more than two decimals,
            an amount above ``MAX_CENTS``, a ``float`` or ``bool``, or text that is not
            an amount.
    """
    return parse_amount(value, "usd")


def parse_amount(value: str | int | Decimal, currency: str) -> Cents:
    """Convert an amount in ``currency`` into its minor unit: ``"4.50"`` EUR -> ``450``,
    ``"¥3,100"`` JPY -> ``3100``; an ``int`` is whole units (``12`` EUR -> ``1200``).

    Raises:
        MoneyError: as ``parse_cents``, with the currency's own number of decimals
            (none for JPY, three for KWD); or ``currency`` is not a currency code.
    """
    digits = minor_units(currency)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MoneyError(f"amounts must be text, int or Decimal, not {type(value).__name__}")
    if isinstance(value, str):
        match = _AMOUNT.match(value)
        if match is None:
            if value.strip().startswith("-"):
                raise MoneyError(f"amount must not be negative: {value.strip()!r}")
            raise MoneyError(f"not an amount of money: {value[:40]!r}")
        sign, number = match["symbol"], match["number"]
        if sign is not None and not _sign_fits(sign, check_currency(currency)):
            raise MoneyError(
                f"{value.strip()!r} is written in another currency than"
                f" {currency.strip().upper()}: give the amount alone"
            )
        if "," in number:
            if _GROUPED.match(number) is None:
                raise MoneyError(
                    f"not an amount of money: {value.strip()[:40]!r} (a dot marks the"
                    " decimals; commas only part groups of three digits, as in 1,000.50)"
                )
            number = number.replace(",", "")
        try:
            amount = Decimal(number)
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise MoneyError(f"not an amount of money: {value[:40]!r}") from exc
    else:
        amount = Decimal(value)
    return _to_minor(amount, digits)


def _to_minor(amount: Decimal, digits: int) -> Cents:
    if amount.is_nan():
        raise MoneyError("amount must be a number, not NaN")
    if amount.is_infinite():
        raise MoneyError("amount must be finite")
    if amount < 0:
        raise MoneyError(f"amount must not be negative: {amount}")
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -digits:
        raise MoneyError(
            f"amount has more than {_WORDS.get(digits, digits)} decimals: {amount}"
            if digits
            else f"amount must be whole: {amount}"
        )
    minor = int(amount * 10**digits)
    if minor > MAX_CENTS:
        raise MoneyError(f"amount is absurdly large: {amount}")
    return minor


def format_cents(cents: Cents) -> str:
    """Format cents for people: ``100000`` -> ``"$1,000.00"``, ``-250`` -> ``"-$2.50"``."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise MoneyError(f"cents must be an int, not {type(cents).__name__}")
    return format_amount(cents, "usd")


def format_amount(amount: Cents, currency: str) -> str:
    """Format an amount in ``currency``'s minor unit for people.

    ``450, "eur"`` -> ``"€4.50"``, ``3100, "jpy"`` -> ``"¥3,100"``, ``100000, "usd"`` ->
    ``"$1,000.00"``, ``1500, "kwd"`` -> ``"KWD 1.500"``; negative amounts get a leading
    ``-``.

    Raises:
        MoneyError: ``amount`` is not an int or ``currency`` is not a currency code.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyError(f"amounts must be an int, not {type(amount).__name__}")
    code = check_currency(currency)
    digits = minor_units(code)
    sign = "-" if amount < 0 else ""
    whole, rest = divmod(abs(amount), 10**digits)
    number = f"{whole:,}" + (f".{rest:0{digits}d}" if digits else "")
    symbol = _SYMBOLS.get(code, f"{code.upper()} ")
    return f"{sign}{symbol}{number}"


def percent_of(cents: Cents, percent: int, step: int = 1) -> Cents:
    """``percent`` percent of ``cents``, rounded half-up to the minor unit (15% of $10.03 is
    $1.50; of ¥1,003 it is ¥150), or to a multiple of ``step`` of them (``charge_step``:
    15% of KWD 1.010 is KWD 0.150, not 0.152, which no card payment could charge)."""
    if cents < 0 or percent < 0:
        raise MoneyError("percentages are taken of non-negative amounts only")
    if isinstance(step, bool) or not isinstance(step, int) or step < 1:
        raise MoneyError(f"a rounding step is a whole number of minor units, not {step!r}")
    exact = Decimal(cents) * Decimal(percent) / Decimal(100 * step)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step


def charge_step(currency: str) -> int:
    """The minor units a card payment in ``currency`` moves by: 10 for the three-decimal
    currencies (Stripe charges KWD 5.120, never 5.124), 1 for every other.

    Raises:
        MoneyError: ``currency`` is not a three-letter code.
    """
    return 10 if minor_units(currency) == 3 else 1


def charge_problem(amount: Cents, currency: str) -> dict[str, str] | None:
    """Why no card payment could charge ``amount`` in ``currency``: ``{"max": ...}`` past
    ``MAX_CHARGE``, ``{"step": ...}`` off ``charge_step`` (each formatted, as message
    details), or None when one could.

    Raises:
        MoneyError: ``currency`` is not a three-letter code.
    """
    if amount > MAX_CHARGE:
        return {"max": format_amount(MAX_CHARGE, currency)}
    step = charge_step(currency)
    if amount % step:
        return {"step": format_amount(step, currency)}
    return None
