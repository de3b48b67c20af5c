"""The bar's menu: the only source of prices, loaded once from ``prompts/menu.yaml``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from maya.codes import ErrorCode
from maya.money import MAX_CENTS, Cents
from maya.state.errors import StateError

__all__ = ["Menu", "MenuError", "MenuItem", "load_menu"]

_SPACES = re.compile(r"\s+")


def _key(text: str) -> str:
    return _SPACES.sub(" ", text.strip().casefold())


class MenuError(ValueError):
    """The menu file is missing or malformed."""


class MenuItem(BaseModel):
    """A drink and its price."""

    model_config = ConfigDict(frozen=True)

    name: str
    category: str
    price_cents: Cents = Field(gt=0, le=MAX_CENTS)
    takes_liquor: bool = False


class _MenuFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: str = "usd"
    categories: dict[str, dict[str, PositiveInt]]
    modifiers: _Modifiers

    @model_validator(mode="after")
    def _unique_names(self) -> _MenuFile:
        seen: set[str] = set()
        for items in self.categories.values():
            for name in items:
                if _key(name) in seen:
                    raise ValueError(f"item {name!r} appears twice")
                seen.add(_key(name))
        return self


class _Modifiers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    liquor: list[str]
    default_liquor: str
    liquor_choice_items: list[str] = []
    style: list[str]


_MenuFile.model_rebuild()


class Menu:
    """Item lookup (case- and space-insensitive, forgiving plurals) and modifier checks."""

    def __init__(
        self,
        items: Iterable[MenuItem],
        *,
        liquors: Iterable[str],
        default_liquor: str,
        styles: Iterable[str],
        currency: str = "usd",
    ) -> None:
        self.items: tuple[MenuItem, ...] = tuple(items)
        self.currency = currency
        self.liquors: tuple[str, ...] = tuple(_key(m) for m in liquors)
        self.default_liquor = _key(default_liquor)
        self.styles: tuple[str, ...] = tuple(_key(m) for m in styles)
        self._by_key: dict[str, MenuItem] = {_key(item.name): item for item in self.items}

    @property
    def modifiers(self) -> tuple[str, ...]:
        """Every modifier a customer may ask for."""
        return self.liquors + self.styles

    def find(self, name: str) -> MenuItem:
        """The menu item called ``name``.

        Raises:
            StateError: ``UNKNOWN_ITEM`` with up to three close matches as ``suggestions``.
        """
        key = _key(name)
        item = self._by_key.get(key)
        if item is None:
            for singular in (key[:-2], key[:-1]) if key.endswith("s") else ():
                if singular in self._by_key:
                    item = self._by_key[singular]
                    break
        if item is not None:
            return item
        close = difflib.get_close_matches(key, list(self._by_key), n=3, cutoff=0.5)
        suggestions = [self._by_key[k].name for k in close]
        raise StateError(
            ErrorCode.UNKNOWN_ITEM,
            f"{name[:60]!r} is not on the menu",
            item=name[:60],
            suggestions=suggestions,
        )

    def normalize_modifiers(self, item: MenuItem, modifiers: Iterable[str]) -> tuple[str, ...]:
        """Check and canonicalise an order's modifiers; add the default liquor where due.

        Raises:
            StateError: ``INVALID_MODIFIER`` naming the modifier and the allowed ones.
        """
        result: list[str] = []
        for raw in modifiers:
            if not isinstance(raw, str):
                raise StateError(
                    ErrorCode.INVALID_MODIFIER,
                    "a modifier is a word such as 'dirty' or 'gin'",
                    modifier=type(raw).__name__,
                    allowed=list(self.modifiers),
                )
            modifier = _key(raw)
            if modifier not in self.liquors and modifier not in self.styles:
                raise StateError(
                    ErrorCode.INVALID_MODIFIER,
                    f"{raw[:40]!r} is not a modifier we offer",
                    modifier=raw[:40],
                    allowed=list(self.modifiers),
                )
            if modifier not in result:
                result.append(modifier)
        liquors = [m for m in result if m in self.liquors]
        if len(liquors) > 1:
            raise StateError(
                ErrorCode.INVALID_MODIFIER,
                f"choose one liquor, not {' and '.join(liquors)}",
                modifier=", ".join(liquors),
                allowed=list(self.liquors),
            )
        if item.takes_liquor and not liquors:
            result.insert(0, self.default_liquor)
        return tuple(result)

    def by_category(self) -> Mapping[str, list[MenuItem]]:
        """Items grouped by category, in menu order."""
        grouped: dict[str, list[MenuItem]] = {}
        for item in self.items:
            grouped.setdefault(item.category, []).append(item)
        return grouped

    @classmethod
    def from_mapping(cls, data: Any) -> Menu:
        """Build a menu from the parsed YAML document.

        Raises:
            MenuError: naming what is wrong.
        """
        try:
            parsed = _MenuFile.model_validate(data)
        except ValidationError as exc:
            raise MenuError(f"menu is malformed: {exc}") from exc
        liquor_items = {_key(n) for n in parsed.modifiers.liquor_choice_items}
        items = [
            MenuItem(
                name=name,
                category=category,
                price_cents=price,
                takes_liquor=_key(name) in liquor_items,
            )
            for category, entries in parsed.categories.items()
            for name, price in entries.items()
        ]
        return cls(
            items,
            liquors=parsed.modifiers.liquor,
            default_liquor=parsed.modifiers.default_liquor,
            styles=parsed.modifiers.style,
            currency=parsed.currency,
        )


def _read(path: Path | None) -> str:
    if path is not None:
        return path.read_text(encoding="utf-8")
    return (resources.files("maya") / "prompts" / "menu.yaml").read_text(encoding="utf-8")


@cache
def load_menu(path: Path | None = None) -> Menu:
    """Load (once per path) the menu from ``path`` or the packaged ``prompts/menu.yaml``.

    Raises:
        MenuError: when the file is missing or malformed.
    """
    try:
        data = yaml.safe_load(_read(path))
    except (OSError, yaml.YAMLError) as exc:
        raise MenuError(f"cannot read the menu: {exc}") from exc
    return Menu.from_mapping(data)
