"""What a merchant sells (``Catalog``: priced items in one currency) and ``TabSettings``.

A catalog comes from Python or a YAML/JSON file (``Catalog.from_file``); its prices, in the
currency's minor unit, are the only prices an order tool charges.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from maya.codes import ErrorCode
from maya.money import (
    MAX_CHARGE,
    Cents,
    MoneyError,
    charge_problem,
    check_iso_currency,
    parse_amount,
)
from maya.state.errors import StateError
from maya.state.models import TIP_PERCENTAGES

__all__ = ["MAX_QUANTITY", "Catalog", "CatalogError", "CatalogItem", "LineItem", "TabSettings"]

_SPACES = re.compile(r"\s+")
_Item = TypeVar("_Item", bound="CatalogItem")


def name_key(text: str) -> str:
    """How names are compared: case and spacing do not matter."""
    return _SPACES.sub(" ", text.strip().casefold())


def find_named(by_key: Mapping[str, _Item], name: str, *, missing: str) -> _Item:
    """The item called ``name`` in ``by_key`` (keyed by ``name_key``); a plural's
    trailing "s" or "es" is forgiven.

    Raises:
        StateError: ``UNKNOWN_ITEM`` ("'<name>' <missing>") with up to three close
            matches as ``suggestions``.
    """
    key = name_key(name)
    for candidate in (key, key[:-2], key[:-1]) if key.endswith("s") else (key,):
        if candidate in by_key:
            return by_key[candidate]
    close = difflib.get_close_matches(key, list(by_key), n=3, cutoff=0.5)
    raise StateError(
        ErrorCode.UNKNOWN_ITEM,
        f"{name[:60]!r} {missing}",
        item=name[:60],
        suggestions=[by_key[k].name for k in close],
    )


class CatalogError(ValueError):
    """A catalog (file or mapping) that cannot be used; the message says what is wrong."""


class CatalogItem(BaseModel):
    """One thing the merchant sells and its price.

    Attributes:
        name: as the customer and the model say it.
        price_cents: the price in the catalog currency's minor unit.
        category: an optional heading for menus.
    """

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1, max_length=100)
    # No more than one card payment can take: a dearer item could never be paid for.
    price_cents: Cents = Field(gt=0, le=MAX_CHARGE)
    category: str = ""


class LineItem(BaseModel):
    """A line an integrator prices itself, for ``TabManager.add_items``.

    Attributes:
        name: what the customer bought.
        unit_price_cents: its price in the tab currency's minor unit.
        quantity: how many.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=100)
    unit_price_cents: Cents = Field(gt=0, le=MAX_CHARGE)
    quantity: int = Field(default=1, ge=1)


MAX_QUANTITY = 10_000
"""The most ``TabSettings.max_quantity`` may allow of one item in one order."""


@dataclass(frozen=True, slots=True)
class TabSettings:
    """How a tab behaves, set by the application.

    Attributes:
        starting_balance_cents: a prepaid balance each new tab starts with, which orders
            are paid from (and refused beyond); None for no prepaid balance (the bill is
            simply what was ordered).
        max_quantity: the most of one item a single order may ask for.
        tip_percentages: the tips a customer may choose, any of 10, 15 and 20 (empty:
            no tips).
    """

    starting_balance_cents: Cents | None = None
    max_quantity: int = 99
    tip_percentages: tuple[int, ...] = TIP_PERCENTAGES

    def __post_init__(self) -> None:
        balance = self.starting_balance_cents
        if balance is not None and (
            isinstance(balance, bool) or not isinstance(balance, int) or not balance >= 0
        ):
            raise ValueError("starting_balance_cents is a non-negative int or None")
        if isinstance(self.max_quantity, bool) or not 1 <= self.max_quantity <= MAX_QUANTITY:
            raise ValueError(f"max_quantity is a whole number from 1 to {MAX_QUANTITY}")
        unknown = [p for p in self.tip_percentages if p not in TIP_PERCENTAGES]
        if unknown:
            # The stores keep a tip as one of these three (a CHECK in the SQL schema).
            raise ValueError(f"tip percentages are chosen from 10, 15 and 20, not {unknown}")

    @property
    def prepaid(self) -> bool:
        """True when tabs start with a balance that pays for orders."""
        return self.starting_balance_cents is not None


def _priced(name: str, price: object, currency: str, category: str) -> CatalogItem:
    if isinstance(price, float):
        raise CatalogError(f"write the price of {name!r} as text, e.g. '3.20', not a float")
    if isinstance(price, bool) or not isinstance(price, str | int | Decimal):
        raise CatalogError(f"the price of {name!r} must be text or a whole number")
    try:
        cents = parse_amount(price, currency)
    except MoneyError as exc:
        raise CatalogError(f"the price of {name!r}: {exc}") from exc
    # Said in words here, not left to the model's validation (a pydantic dump).
    if cents <= 0:
        raise CatalogError(f"the price of {name!r} must be more than 0")
    unchargeable = charge_problem(cents, currency)
    if unchargeable is not None and "max" in unchargeable:
        raise CatalogError(
            f"the price of {name!r} is over {unchargeable['max']},"
            " the most one card payment can take"
        )
    if unchargeable is not None:
        raise CatalogError(
            f"the price of {name!r}: card payments in {currency.upper()} go in steps of"
            f" {unchargeable['step']}"
        )
    try:
        return CatalogItem(name=name, price_cents=cents, category=category)
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors(include_url=False))
        raise CatalogError(f"item {name!r}: {problems}") from exc


class _ItemFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    price: str | int | float
    category: str = ""


class _CatalogFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant: str = Field(min_length=1, max_length=80)
    currency: str = "usd"
    items: dict[str, str | int | float] | list[_ItemFile]


class Catalog:
    """Items with prices in one currency, looked up by name (case- and space-insensitive,
    forgiving plurals), with close matches suggested for an unknown name."""

    def __init__(
        self,
        items: Iterable[CatalogItem] | Mapping[str, str | int | Decimal],
        *,
        merchant: str,
        currency: str = "usd",
    ) -> None:
        """Create a catalog.

        Args:
            items: ``CatalogItem`` objects, or a mapping of name to price given as text
                or ``Decimal`` in the currency (``"3.20"``, ``"€3.20"``) or an int of
                whole units (``3`` EUR is €3.00).
            merchant: the business's name (in payment product names and instructions).
            currency: its ISO 4217 code.

        Raises:
            CatalogError: a price, name or the currency is not usable, or a name repeats.
        """
        try:
            self.currency = check_iso_currency(currency)
        except MoneyError as exc:
            raise CatalogError(str(exc)) from exc
        if not isinstance(merchant, str) or not merchant.strip():
            raise CatalogError("a catalog needs the merchant's name")
        self.merchant = merchant.strip()
        if isinstance(items, Mapping):
            built: list[CatalogItem] = []
            for name, price in items.items():
                built.append(_priced(str(name), price, self.currency, ""))
            self.items: tuple[CatalogItem, ...] = tuple(built)
        else:
            self.items = tuple(items)
        if not self.items:
            raise CatalogError("a catalog needs at least one item")
        self._by_key: dict[str, CatalogItem] = {}
        for item in self.items:
            if name_key(item.name) in self._by_key:
                raise CatalogError(f"item {item.name!r} appears twice")
            self._by_key[name_key(item.name)] = item

    @property
    def modifiers(self) -> tuple[str, ...]:
        """Modifiers a customer may ask for: a plain catalog has none."""
        return ()

    @property
    def tab_settings(self) -> TabSettings:
        """The tabs this business keeps unless told otherwise: no prepaid balance."""
        return TabSettings()

    def find(self, name: str) -> CatalogItem:
        """The item called ``name``.

        Raises:
            StateError: ``UNKNOWN_ITEM`` with up to three close matches as ``suggestions``.
        """
        return find_named(self._by_key, name, missing="is not in the catalog")

    def normalize_modifiers(self, item: CatalogItem, modifiers: Iterable[str]) -> tuple[str, ...]:
        """A plain catalog's items take no modifiers.

        Raises:
            StateError: ``INVALID_MODIFIER`` when any is given.
        """
        given = [m for m in modifiers if isinstance(m, str) and m.strip()]
        if given:
            raise StateError(
                ErrorCode.INVALID_MODIFIER,
                f"{item.name} takes no modifiers",
                item=item.name,
                modifier=given[0][:40],
                allowed=[],
            )
        return ()

    def by_category(self) -> dict[str, list[CatalogItem]]:
        """Items grouped by category, in catalog order."""
        grouped: dict[str, list[CatalogItem]] = {}
        for item in self.items:
            grouped.setdefault(item.category, []).append(item)
        return grouped

    @classmethod
    def from_mapping(cls, data: Any) -> Catalog:
        """Build a catalog from a parsed document::

            merchant: Bean There
            currency: eur
            items: {"Flat white": "3.20", "Croissant": "2.10"}

        (``items`` may also be a list of ``{name, price, category}``.)

        Raises:
            CatalogError: naming what is wrong.
        """
        try:
            parsed = _CatalogFile.model_validate(data)
        except ValidationError as exc:
            raise CatalogError(f"catalog is malformed: {exc}") from exc
        try:
            currency = check_iso_currency(parsed.currency)
        except MoneyError as exc:
            raise CatalogError(str(exc)) from exc
        entries = (
            [_ItemFile(name=name, price=price) for name, price in parsed.items.items()]
            if isinstance(parsed.items, dict)
            else parsed.items
        )
        items = [_priced(e.name, e.price, currency, e.category) for e in entries]
        return cls(items, merchant=parsed.merchant, currency=parsed.currency)

    @classmethod
    def from_file(cls, path: str | Path) -> Catalog:
        """Load a catalog from a YAML or JSON file (JSON when the name ends in ``.json``).

        Raises:
            CatalogError: the file cannot be read or is not a usable catalog.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            raise CatalogError(f"cannot read the catalog {path}: {exc}") from exc
        return cls.from_mapping(data)
