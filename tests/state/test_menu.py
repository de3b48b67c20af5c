"""The menu: the only source of prices, forgiving lookup, checked modifiers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maya.bar.menu import Menu, MenuError, MenuItem, bar_messages, load_menu
from maya.codes import ErrorCode
from maya.state.errors import StateError

MESSAGES = bar_messages()

# The original bar's prices, from the design, written out independently of menu.yaml.
PRICES = {
    "Daiquiri": 1000,
    "Martini": 1300,
    "Long Island": 1200,
    "Old Fashioned": 1200,
    "Negroni": 1100,
    "Cosmopolitan": 1200,
    "Manhattan": 1200,
    "Tap Beer": 500,
    "Classic Brew": 500,
    "IPA": 600,
    "Whiskey": 800,
    "Vodka": 700,
    "Rum": 700,
    "Gin": 800,
    "Tequila": 800,
    "Brandy": 900,
    "Water": 100,
    "Iced Tea": 200,
    "Lemonade": 200,
    "Soda": 300,
}


@pytest.fixture
def menu() -> Menu:
    return load_menu()


def test_packaged_menu_has_the_bars_prices(menu: Menu) -> None:
    assert {item.name: item.price_cents for item in menu.items} == PRICES


def test_menu_groups_items_by_category_in_order(menu: Menu) -> None:
    grouped = menu.by_category()
    assert list(grouped) == ["Cocktails", "Beer", "Spirits (neat or on the rocks)", "Non-alcoholic"]
    assert [item.name for item in grouped["Beer"]] == ["Tap Beer", "Classic Brew", "IPA"]


@pytest.mark.parametrize(
    ("asked", "name"),
    [
        ("martini", "Martini"),
        ("  MARTINI ", "Martini"),
        ("long   island", "Long Island"),
        ("Long\tIsland", "Long Island"),
        ("old fashioned", "Old Fashioned"),
        ("Martinis", "Martini"),
        ("ipas", "IPA"),
        ("tap beers", "Tap Beer"),
        ("iced teas", "Iced Tea"),
    ],
)
def test_lookup_ignores_case_spacing_and_plurals(menu: Menu, asked: str, name: str) -> None:
    assert menu.find(asked).name == name


def test_unknown_item_is_refused_with_close_suggestions(menu: Menu) -> None:
    with pytest.raises(StateError) as caught:
        menu.find("Martinez")
    assert caught.value.code is ErrorCode.UNKNOWN_ITEM
    assert caught.value.details["item"] == "Martinez"
    assert "Martini" in caught.value.details["suggestions"]
    assert len(caught.value.details["suggestions"]) <= 3


def test_unknown_item_with_nothing_close_has_no_suggestions(menu: Menu) -> None:
    with pytest.raises(StateError) as caught:
        menu.find("zzzzzzzz")
    assert caught.value.details["suggestions"] == []


def test_very_long_unknown_name_is_truncated_in_the_error(menu: Menu) -> None:
    with pytest.raises(StateError) as caught:
        menu.find("x" * 500)
    assert len(caught.value.details["item"]) == 60


def test_martini_gets_the_default_liquor(menu: Menu) -> None:
    martini = menu.find("Martini")
    assert menu.normalize_modifiers(martini, []) == ("vodka",)
    assert menu.normalize_modifiers(martini, ["dirty"]) == ("vodka", "dirty")


def test_modifiers_are_canonical_and_deduplicated(menu: Menu) -> None:
    martini = menu.find("Martini")
    assert menu.normalize_modifiers(martini, [" GIN ", "Dirty", "dirty", "On  the rocks"]) == (
        "gin",
        "dirty",
        "on the rocks",
    )


def test_items_without_liquor_choice_get_no_default(menu: Menu) -> None:
    assert menu.normalize_modifiers(menu.find("Water"), []) == ()
    assert menu.normalize_modifiers(menu.find("Whiskey"), ["neat"]) == ("neat",)


def test_unknown_modifier_is_refused_naming_the_allowed_ones(menu: Menu) -> None:
    with pytest.raises(StateError) as caught:
        menu.normalize_modifiers(menu.find("Martini"), ["salty"])
    assert caught.value.code is ErrorCode.INVALID_MODIFIER
    assert caught.value.details["modifier"] == "salty"
    assert "shaken" in caught.value.details["allowed"]
    assert "vodka" in caught.value.details["allowed"]


def test_two_liquors_are_refused_naming_the_choices(menu: Menu) -> None:
    with pytest.raises(StateError) as caught:
        menu.normalize_modifiers(menu.find("Martini"), ["gin", "vodka"])
    assert caught.value.code is ErrorCode.INVALID_MODIFIER
    assert caught.value.details["choices"] == "vodka, tequila, gin, whiskey, rum or brandy"
    assert caught.value.details["allowed"] == list(menu.options_for(menu.find("Martini")))


@pytest.mark.parametrize(
    ("drink", "modifiers", "choices"),
    [
        ("Whiskey", ["neat", "on the rocks"], "neat or on the rocks"),
        ("Martini", ["shaken", "stirred"], "shaken or stirred"),
        ("Manhattan", ["dry", "perfect"], "dry or perfect"),
    ],
)
def test_exclusive_modifiers_are_refused_together(
    menu: Menu, drink: str, modifiers: list[str], choices: str
) -> None:
    with pytest.raises(StateError) as caught:
        menu.normalize_modifiers(menu.find(drink), modifiers)
    assert caught.value.details["choices"] == choices
    said = MESSAGES.render(ErrorCode.INVALID_MODIFIER, caught.value.details)
    assert said == f"For {drink} it's {choices}: pick one, and I'll make it that way."


@pytest.mark.parametrize(
    ("drink", "modifier", "said"),
    [
        ("Water", "gin", "Water comes just as it is, so I can't do gin with it."),
        ("Lemonade", "neat", "Lemonade comes just as it is, so I can't do neat with it."),
        (
            "Whiskey",
            "gin",
            "I can't do gin with Whiskey. For Whiskey I can do: neat, on the rocks, with a chaser.",
        ),
        (
            "Daiquiri",
            "neat",
            "I can't do neat with Daiquiri. For Daiquiri I can do: shaken, stirred.",
        ),
    ],
)
def test_a_modifier_the_drink_does_not_take_is_refused_naming_its_options(
    menu: Menu, drink: str, modifier: str, said: str
) -> None:
    with pytest.raises(StateError) as caught:
        menu.normalize_modifiers(menu.find(drink), [modifier])
    assert caught.value.details["allowed"] == list(menu.options_for(menu.find(drink)))
    assert MESSAGES.render(ErrorCode.INVALID_MODIFIER, caught.value.details) == said


def test_only_drinks_with_a_liquor_choice_take_a_liquor(menu: Menu) -> None:
    takers = {item.name for item in menu.items if set(menu.liquors) & set(menu.options_for(item))}
    assert takers == {item.name for item in menu.items if item.takes_liquor} == {"Martini"}


def test_modifier_list_is_every_liquor_and_style(menu: Menu) -> None:
    assert menu.liquors == ("vodka", "tequila", "gin", "whiskey", "rum", "brandy")
    assert menu.default_liquor == "vodka"
    assert set(menu.styles) == {
        "shaken",
        "stirred",
        "neat",
        "dry",
        "dirty",
        "perfect",
        "on the rocks",
        "with a chaser",
    }
    assert menu.modifiers == menu.liquors + menu.styles


# Properties over the packaged menu: what a drink accepts is exactly its groups' options,
# and a combination is refused exactly when it takes two options of one exclusive group.
ITEMS = st.sampled_from(load_menu().items)
ANY_MODIFIER = st.sampled_from(load_menu().modifiers)


@settings(max_examples=300, deadline=None)
@given(item=ITEMS, asked=st.lists(ANY_MODIFIER, max_size=5))
def test_a_combination_is_accepted_exactly_when_the_drink_allows_it(
    item: MenuItem, asked: list[str]
) -> None:
    menu = load_menu()
    options = set(menu.options_for(item))
    groups = [menu.groups[name] for name in item.modifier_groups]
    clash = any(g.exclusive and len(set(asked) & set(g.options)) > 1 for g in groups)
    foreign = [m for m in asked if m not in options]
    if foreign or clash:
        with pytest.raises(StateError) as caught:
            menu.normalize_modifiers(item, asked)
        details = caught.value.details
        assert details["item"] == item.name and details["allowed"] == list(menu.options_for(item))
        said = MESSAGES.render(ErrorCode.INVALID_MODIFIER, details)
        assert item.name in said and "{" not in said
        if not foreign:
            assert "choices" in details and str(details["choices"]) in said
        return
    kept = menu.normalize_modifiers(item, asked)
    assert set(asked) <= set(kept) <= options
    for group in groups:
        chosen = set(kept) & set(group.options)
        if group.default is not None:
            assert len(chosen) == 1  # the default fills an empty choice
        if group.exclusive:
            assert len(chosen) <= 1


@settings(max_examples=100, deadline=None)
@given(item=ITEMS, asked=st.lists(ANY_MODIFIER, max_size=4))
def test_normalizing_twice_changes_nothing(item: MenuItem, asked: list[str]) -> None:
    menu = load_menu()
    try:
        kept = menu.normalize_modifiers(item, asked)
    except StateError:
        return
    assert menu.normalize_modifiers(item, kept) == kept


def _menu_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "currency": "usd",
        "categories": {"Drinks": {"Water": 100, "Martini": 1300}},
        "modifiers": {
            "groups": {
                "liquor": {"options": ["gin", "vodka"], "exclusive": True, "default": "gin"},
                "style": {"options": ["dry"]},
            },
            "drinks": {"Martini": ["liquor", "style"]},
        },
    }
    doc.update(changes)
    return doc


def test_menu_from_a_mapping() -> None:
    menu = Menu.from_mapping(_menu_doc())
    assert menu.find("martini").takes_liquor
    assert not menu.find("water").takes_liquor
    assert menu.normalize_modifiers(menu.find("martini"), []) == ("gin",)
    assert menu.options_for(menu.find("water")) == ()


def _modifiers(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(_menu_doc()["modifiers"])
    base.update(changes)
    return base


@pytest.mark.parametrize(
    ("doc", "problem"),
    [
        (_menu_doc(categories={"Drinks": {"Water": -1}}), "greater than 0"),
        (_menu_doc(categories={"Drinks": {"Water": 0}}), "greater than 0"),
        (_menu_doc(categories={"Drinks": {"Water": "cheap"}}), "integer"),
        (_menu_doc(categories={"A": {"Water": 100}, "B": {" water": 200}}), "appears twice"),
        (_menu_doc(surprise=1), "surprise"),
        (_menu_doc(modifiers={"liquor": ["gin"]}), "groups"),
        (
            _menu_doc(modifiers=_modifiers(groups={"a": {"options": ["x"], "default": "y"}})),
            "not one of the options",
        ),
        (
            _menu_doc(
                modifiers=_modifiers(
                    groups={"a": {"options": ["dry"]}, "b": {"options": ["Dry"]}}, drinks={}
                )
            ),
            "in both",
        ),
        (_menu_doc(modifiers=_modifiers(drinks={"Martini": ["nope"]})), "unknown modifier groups"),
        (_menu_doc(modifiers=_modifiers(drinks={"Mojito": ["style"]})), "not on the menu"),
        ({"categories": {}}, "modifiers"),
        (None, "malformed"),
        ([1, 2], "malformed"),
    ],
)
def test_malformed_menus_are_refused_saying_why(doc: Any, problem: str) -> None:
    with pytest.raises(MenuError, match=problem):
        Menu.from_mapping(doc)


def test_menu_file_that_is_missing(tmp_path: Path) -> None:
    with pytest.raises(MenuError, match="cannot read the menu"):
        load_menu(tmp_path / "nope.yaml")


def test_menu_file_that_is_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(MenuError, match="cannot read the menu"):
        load_menu(path)


def test_menu_file_that_is_valid_yaml_but_not_a_menu(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text("just: text\n", encoding="utf-8")
    with pytest.raises(MenuError, match="malformed"):
        load_menu(path)
