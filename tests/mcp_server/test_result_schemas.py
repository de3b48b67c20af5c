"""Every response fits its tool's ``outputSchema``, ok or refused, over random arguments; the
schemas are in the subset every client reads; the models are today's results key for key."""

from __future__ import annotations

from typing import Any

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from maya.bar import RESULT_MODELS
from maya.bar.menu import load_menu
from maya.bar.schemas import RESULT_SCHEMAS
from maya.mcp_server import ERROR_SCHEMA, mcp_tools, output_schema
from maya.sandbox import CARD_GENERIC_DECLINE, CARD_SUCCESS
from maya.tools.schema_gemini import gemini_schema_problems, to_gemini_schema
from surface_bar import open_bar

_MENU = load_menu()
_TOOLS = list(RESULT_MODELS)
_VALIDATORS = {name: Draft202012Validator(output_schema(RESULT_SCHEMAS[name])) for name in _TOOLS}

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 50)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_names = st.sampled_from([item.name for item in _MENU.items]) | st.text(max_size=12)
_modifiers = st.lists(st.sampled_from(list(_MENU.modifiers)) | st.text(max_size=6), max_size=4)

_ARGUMENTS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "order_drink": st.fixed_dictionaries(
        {"name": _names},
        optional={"quantity": st.integers(-1, 25) | _json, "modifiers": _modifiers | _json},
    ),
    "set_tip": st.fixed_dictionaries({"percent": st.sampled_from([10, 15, 20, 17, 0]) | _json}),
    "check_payment_status": st.fixed_dictionaries(
        {}, optional={"payment_id": st.text(max_size=12) | st.sampled_from(["plink_x", ""])}
    ),
}


def _arguments(tool: str) -> st.SearchStrategy[dict[str, Any]]:
    known = _ARGUMENTS.get(tool, st.just({}))
    # Now and then an argument the tool does not take, or the wrong shape altogether.
    extra = st.dictionaries(st.text(min_size=1, max_size=6), _json, max_size=2)
    return known | st.builds(lambda a, b: {**a, **b}, known, extra)


_step = st.one_of(
    st.sampled_from([*_TOOLS, "no_such_tool"]).flatmap(
        lambda tool: st.tuples(st.just(tool), _arguments(tool))
    ),
    # Make a link, pay it (or have the card declined) and check it: the payment paths.
    st.tuples(st.just("settle"), st.sampled_from([CARD_SUCCESS, CARD_GENERIC_DECLINE])),
)


async def _play(program: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    with anyio.fail_after(60):
        async with open_bar() as bar:
            # A tab with something on it, so later calls get past "nothing to pay".
            await bar.toolset.call("order_drink", {"name": "Martini", "quantity": 2}, "t")
            for tool, args in program:
                if tool == "settle":
                    link = await bar.toolset.call("create_stripe_payment", {}, "t")
                    seen.append(("create_stripe_payment", link))
                    if link["status"] == "ok":
                        bar.pay(link["result"]["url"], args)
                    tool, args = "check_payment_status", {}
                seen.append((tool, await bar.toolset.call(tool, args, "t")))
    return seen


@settings(max_examples=60)
@given(st.lists(_step, min_size=1, max_size=12))
def test_every_response_fits_the_tools_output_schema(program: list[tuple[str, Any]]) -> None:
    responses = anyio.run(_play, program)
    for tool, response in responses:
        validator = _VALIDATORS.get(tool) or Draft202012Validator(ERROR_SCHEMA)
        problems = [error.message for error in validator.iter_errors(response)]
        assert not problems, (tool, problems, response)
        if response["status"] == "ok":
            model = RESULT_MODELS[tool].model_validate(response["result"])
            assert model.model_dump(mode="json", exclude_unset=True) == response["result"], tool


def _type_lists(node: Any, path: str = "") -> list[str]:
    if isinstance(node, list):
        return [p for i, item in enumerate(node) for p in _type_lists(item, f"{path}[{i}]")]
    if not isinstance(node, dict):
        return []
    found = [path] if isinstance(node.get("type"), list) else []
    return found + [p for k, v in node.items() for p in _type_lists(v, f"{path}.{k}")]


def test_schemas_are_in_the_subset_every_client_reads() -> None:
    async def tools() -> list[Any]:
        async with open_bar() as bar:
            return mcp_tools(bar.toolset)

    for tool in anyio.run(tools):
        output = tool.output_schema
        assert output is not None and output["type"] == "object", tool.name
        text = str(output)
        # No type lists (nullable is anyOf with null, which Gemini maps to its nullable),
        # no $ref to resolve, no const (Gemini's subset has enum).
        assert _type_lists(output) == [] and _type_lists(tool.input_schema) == [], tool.name
        assert "$ref" not in text and "'const'" not in text, tool.name
        if tool.input_schema.get("properties"):
            assert gemini_schema_problems(tool.input_schema) == [], tool.name


def test_a_nullable_type_list_reaches_gemini_as_one_type_and_is_flagged_otherwise() -> None:
    schema = {
        "type": "object",
        "properties": {
            "note": {"type": ["string", "null"], "maxLength": 9, "description": "A note."},
        },
    }
    transformed = to_gemini_schema(schema)
    assert transformed["properties"]["note"] == {
        "type": "string",
        "maxLength": 9,
        "description": "A note.",
    }
    assert gemini_schema_problems(transformed) == []
    assert gemini_schema_problems(schema) == [
        "note: a list of types; Gemini reads one (optional: leave it out)"
    ]
