"""The bar's menu: the only source of prices, loaded once from ``prompts/menu.yaml``.

Modifiers are data too: groups of options (liquor, method, serve, ...), some exclusive,
and for each drink the groups it accepts; an order's modifiers are checked against its
drink (Water with gin, or neat and on the rocks together, is refused naming the choices).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, model_validator

from maya.bar.settings import BAR_SETTINGS
from maya.codes import ErrorCode
from maya.messages import MessageBook, load_messages
from maya.money import MAX_CENTS, Cents
from maya.state.catalog import Catalog, CatalogItem, TabSettings, find_named, name_key
from maya.state.errors import StateError

if TYPE_CHECKING:
    from maya.tools.catalog import ToolSpec

__all__ = ["Menu", "MenuError", "MenuItem", "ModifierGroup", "bar_messages", "load_menu"]


class MenuError(ValueError):
    """The menu file is missing or malformed."""


class MenuItem(CatalogItem):
    """A drink and its price."""

    model_config = ConfigDict(frozen=True)

    name: str
    category: str
    price_cents: Cents = Field(gt=0, le=MAX_CENTS)
    takes_liquor: bool = False
    modifier_groups: tuple[str, ...] = ()


class ModifierGroup(BaseModel):
    """Options of one kind (e.g. ``serve``: neat, on the rocks).

    Attributes:
        name: the group's name.
        options: its options, canonical (lower case, single spaces).
        exclusive: at most one option of the group per order.
        default: added when a drink accepting the group gets none of its options.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    options: tuple[str, ...]
    exclusive: bool = False
    default: str | None = None

    def choices(self) -> str:
        """The options in words: ``"neat or on the rocks"``."""
        if len(self.options) < 2:
            return "".join(self.options)
        return ", ".join(self.options[:-1]) + " or " + self.options[-1]


class _GroupFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    options: list[str] = Field(min_length=1)
    exclusive: bool = False
    default: str | None = None

    @model_validator(mode="after")
    def _default_is_an_option(self) -> _GroupFile:
        options = {name_key(o) for o in self.options}
        if self.default is not None and name_key(self.default) not in options:
            raise ValueError(f"default {self.default!r} is not one of the options")
        return self


class _Modifiers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    groups: dict[str, _GroupFile]
    drinks: dict[str, list[str]] = {}

    @model_validator(mode="after")
    def _consistent(self) -> _Modifiers:
        seen: dict[str, str] = {}
        for name, group in self.groups.items():
            for option in group.options:
                if name_key(option) in seen:
                    raise ValueError(
                        f"modifier {option!r} is in both {seen[name_key(option)]!r} and {name!r}"
                    )
                seen[name_key(option)] = name
        for drink, groups in self.drinks.items():
            unknown = [g for g in groups if g not in self.groups]
            if unknown:
                raise ValueError(f"{drink!r} accepts unknown modifier groups {unknown}")
        return self


class _MenuFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant: str = "Maya"
    currency: str = "usd"
    categories: dict[str, dict[str, PositiveInt]]
    modifiers: _Modifiers

    @model_validator(mode="after")
    def _unique_names(self) -> _MenuFile:
        seen: set[str] = set()
        for items in self.categories.values():
            for name in items:
                if name_key(name) in seen:
                    raise ValueError(f"item {name!r} appears twice")
                seen.add(name_key(name))
        unknown = [d for d in self.modifiers.drinks if name_key(d) not in seen]
        if unknown:
            raise ValueError(f"modifiers are given for drinks not on the menu: {unknown}")
        return self


LIQUOR_GROUP = "liquor"
"""The group whose options are the spirits a cocktail can be made with."""


class Menu(Catalog):
    """The bar's catalog: drinks with modifier checks on top of the catalog's lookup."""

    def __init__(
        self,
        items: Iterable[MenuItem],
        *,
        groups: Iterable[ModifierGroup],
        currency: str = "usd",
        merchant: str = "Maya",
    ) -> None:
        """Create a menu.

        Args:
            items: the drinks, each naming the modifier groups it accepts.
            groups: the modifier groups.
            currency: the ISO currency of the prices.
            merchant: the bar's name.
        """
        drinks: tuple[MenuItem, ...] = tuple(items)
        super().__init__(drinks, merchant=merchant, currency=currency)
        self.items: tuple[MenuItem, ...] = drinks
        self.groups: dict[str, ModifierGroup] = {group.name: group for group in groups}
        self._group_of: dict[str, ModifierGroup] = {
            option: group for group in self.groups.values() for option in group.options
        }
        liquor = self.groups.get(LIQUOR_GROUP)
        self.liquors: tuple[str, ...] = liquor.options if liquor is not None else ()
        self.default_liquor: str | None = liquor.default if liquor is not None else None
        self.styles: tuple[str, ...] = tuple(
            option
            for group in self.groups.values()
            if group.name != LIQUOR_GROUP
            for option in group.options
        )
        self._drinks: dict[str, MenuItem] = {name_key(item.name): item for item in self.items}

    @property
    def tab_settings(self) -> TabSettings:
        """The bar's tab: a $1,000.00 prepaid balance, 1-20 of a drink, 10/15/20 % tips."""
        return BAR_SETTINGS

    @property
    def tools(self) -> Sequence[ToolSpec[Any]]:
        """The bar's tools (``DEFAULT_TOOLS``): what a ``Toolset`` offers for this menu."""
        from maya.bar.tools import DEFAULT_TOOLS  # built on this module

        return DEFAULT_TOOLS

    @property
    def modifiers(self) -> tuple[str, ...]:
        """Every modifier a customer may ask for (some drinks take none of them)."""
        return self.liquors + self.styles

    def options_for(self, item: CatalogItem) -> tuple[str, ...]:
        """The modifiers ``item`` accepts, group by group."""
        if not isinstance(item, MenuItem):
            return ()
        return tuple(
            option
            for name in item.modifier_groups
            if name in self.groups
            for option in self.groups[name].options
        )

    def find(self, name: str) -> MenuItem:
        """The menu item called ``name``.

        Raises:
            StateError: ``UNKNOWN_ITEM`` with up to three close matches as ``suggestions``.
        """
        return find_named(self._drinks, name, missing="is not on the menu")

    def _refuse(self, item: CatalogItem, message: str, modifier: str, **details: Any) -> StateError:
        return StateError(
            ErrorCode.INVALID_MODIFIER,
            message,
            item=item.name,
            modifier=modifier[:40],
            allowed=list(self.options_for(item)),
            **details,
        )

    def normalize_modifiers(self, item: CatalogItem, modifiers: Iterable[str]) -> tuple[str, ...]:
        """Check an order's modifiers against its drink; canonicalise; add defaults.

        Raises:
            StateError: ``INVALID_MODIFIER`` naming the drink, the modifier and what the
                drink accepts (``allowed``); for two options of an exclusive group, also
                the group's ``choices`` ("neat or on the rocks").
        """
        accepted = set(self.options_for(item))
        result: list[str] = []
        for raw in modifiers:
            if not isinstance(raw, str):
                raise self._refuse(
                    item, "a modifier is a word such as 'dirty' or 'gin'", type(raw).__name__
                )
            modifier = name_key(raw)
            if modifier not in self._group_of:
                raise self._refuse(item, f"{raw[:40]!r} is not a modifier we offer", raw)
            if modifier not in accepted:
                raise self._refuse(item, f"{item.name} does not come {modifier}", modifier)
            if modifier not in result:
                result.append(modifier)
        for name in item.modifier_groups if isinstance(item, MenuItem) else ():
            group = self.groups[name]
            chosen = [m for m in result if m in group.options]
            if group.exclusive and len(chosen) > 1:
                raise self._refuse(
                    item,
                    f"choose one of {group.choices()}, not {' and '.join(chosen)}",
                    " and ".join(chosen),
                    choices=group.choices(),
                    group=group.name,
                )
            if not chosen and group.default is not None:
                result.insert(0, group.default)
        return tuple(result)

    def by_category(self) -> dict[str, list[MenuItem]]:  # type: ignore[override]
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
        drinks = parsed.modifiers.drinks
        accepts = {name_key(drink): tuple(groups) for drink, groups in drinks.items()}
        groups = [
            ModifierGroup(
                name=name,
                options=tuple(dict.fromkeys(name_key(o) for o in group.options)),
                exclusive=group.exclusive,
                default=name_key(group.default) if group.default is not None else None,
            )
            for name, group in parsed.modifiers.groups.items()
        ]
        items = [
            MenuItem(
                name=name,
                category=category,
                price_cents=price,
                takes_liquor=LIQUOR_GROUP in accepts.get(name_key(name), ()),
                modifier_groups=accepts.get(name_key(name), ()),
            )
            for category, entries in parsed.categories.items()
            for name, price in entries.items()
        ]
        return cls(items, groups=groups, currency=parsed.currency, merchant=parsed.merchant)


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


@cache
def bar_messages() -> MessageBook:
    """Maya's voice: the packaged ``prompts/messages.yaml`` over the neutral defaults.

    Raises:
        MessagesError: the pack names a key the defaults do not have.
    """
    resource = resources.files("maya") / "prompts" / "messages.yaml"
    with resources.as_file(resource) as path:
        return load_messages(path)
