"""Declarations: generated from the arguments models, compact, and checked all at once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from maya.bar import DEFAULT_TOOLS, GetMenuArgs, OrderDrinkArgs
from maya.tools import (
    ToolArgs,
    ToolSchemaError,
    Toolset,
    ToolSpec,
    build_declarations,
    to_gemini_schema,
)

EXPECTED_TOOLS = [
    "get_menu",
    "order_drink",
    "cancel_last_order",
    "get_balance",
    "set_tip",
    "remove_tip",
    "get_bill",
    "create_stripe_payment",
    "check_payment_status",
]


async def _nothing(ctx: Any, session_id: str, args: Any) -> dict[str, Any]:
    return {}


def test_every_tool_is_declared_in_order_with_its_docstring(toolset: Toolset) -> None:
    tool = toolset.genai_tool()
    assert tool.function_declarations is not None
    names = [d.name for d in tool.function_declarations]
    assert names == EXPECTED_TOOLS
    order = tool.function_declarations[1]
    assert order.description == OrderDrinkArgs.__doc__


def test_order_drink_schema_is_what_gemini_is_sent() -> None:
    (declaration,) = build_declarations([ToolSpec("order_drink", OrderDrinkArgs, _nothing)])
    assert declaration.parameters_json_schema == {
        "type": "object",
        "properties": {
            "name": {
                "type": "string",
                "maxLength": 100,
                "description": "Drink name as on the menu, e.g. 'Martini'.",
            },
            "quantity": {
                "type": "integer",
                "minimum": 1,
                "maximum": 20,
                "description": "How many, 1-20. Default 1.",
            },
            "modifiers": {
                "type": "array",
                "items": {"type": "string", "maxLength": 40},
                "maxItems": 8,
                "description": "Menu modifiers, e.g. ['gin', 'dry'].",
            },
        },
        "required": ["name"],
    }


def test_the_payment_tool_takes_no_amount(toolset: Toolset) -> None:
    by_name = {d.name: d for d in toolset.declarations}
    assert by_name["create_stripe_payment"].parameters_json_schema is None
    check = by_name["check_payment_status"].parameters_json_schema
    assert isinstance(check, dict)
    assert check["properties"]["payment_id"]["type"] == "string"  # optional, not anyOf null
    assert "required" not in check


def test_no_titles_defaults_or_extras_reach_gemini(toolset: Toolset) -> None:
    text = json.dumps([d.model_dump(mode="json", exclude_none=True) for d in toolset.declarations])
    for word in ('"title"', '"default"', '"additionalProperties"', '"$defs"', '"$ref"', "anyOf"):
        assert word not in text


def test_the_declarations_stay_small(toolset: Toolset) -> None:
    assert toolset.declarations_chars < 2000  # about 500 tokens on every turn


def test_optional_and_referenced_fields_are_inlined() -> None:
    schema = {
        "title": "X",
        "type": "object",
        "$defs": {"Size": {"title": "Size", "type": "string", "enum": ["s", "l"]}},
        "properties": {
            "size": {"$ref": "#/$defs/Size", "description": "Cup size."},
            "title": {
                "anyOf": [{"type": "string", "maxLength": 5}, {"type": "null"}],
                "default": None,
                "title": "Title",
                "description": "A field named title.",
            },
        },
    }
    assert to_gemini_schema(schema) == {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["s", "l"], "description": "Cup size."},
            "title": {"type": "string", "maxLength": 5, "description": "A field named title."},
        },
    }


class _Lax(BaseModel):
    """Extra arguments allowed."""

    model_config = ConfigDict(extra="allow")
    note: str = Field(description="Unbounded text.")


class _Undocumented(ToolArgs):
    count: int


class _Nested(ToolArgs):
    """Nested object argument."""

    inner: GetMenuArgs = Field(description="An object.")


def test_every_problem_of_every_tool_is_reported_together() -> None:
    specs: list[ToolSpec[Any]] = [
        ToolSpec("order_drink", OrderDrinkArgs, _nothing),
        ToolSpec("bad name!", GetMenuArgs, _nothing),
        ToolSpec("lax", _Lax, _nothing),
        ToolSpec("undocumented", _Undocumented, _nothing),
        ToolSpec("nested", _Nested, _nothing),
        ToolSpec("order_drink", OrderDrinkArgs, _nothing),
    ]
    with pytest.raises(ToolSchemaError) as caught:
        build_declarations(specs)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "bad name!: the name must be" in text
    assert "lax: the arguments model must forbid extra arguments" in text
    assert "lax: note: text must have a maxLength" in text
    assert "undocumented: the arguments model needs a docstring" in text
    assert "undocumented: count: every parameter needs a description" in text
    assert "undocumented: count: numbers must have a minimum and a maximum" in text
    assert "nested: inner: nested objects are not allowed" in text
    assert "order_drink: declared twice" in text
    assert str(len(problems)) in str(caught.value)


def test_a_toolset_with_a_bad_tool_refuses_to_build(manager: Any) -> None:
    with pytest.raises(ToolSchemaError, match="undocumented"):
        Toolset(
            manager=manager,
            payments=None,
            tools=[*DEFAULT_TOOLS, ToolSpec("undocumented", _Undocumented, _nothing)],
        )
