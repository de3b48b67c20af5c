"""Maya's tools over MCP, in process: the same declarations, results and errors as Gemini's."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp import Client

from maya.bar import RESULT_MODELS
from maya.bar.schemas import RESULT_SCHEMAS
from maya.mcp_server import (
    TAB_META_KEY,
    TabPolicy,
    build_mcp_server,
    mcp_tools,
    output_schema,
)
from maya.mcp_server.server import TAB_HANDLE_PURPOSE
from maya.signing import Signer
from maya.state import Catalog, MemoryTabStore, StateError, TabManager
from maya.tools import CATALOG_TOOLS, Toolset
from surface_bar import open_bar

pytestmark = pytest.mark.anyio


def _structured(result: Any) -> dict[str, Any]:
    assert isinstance(result.structured_content, dict)
    # The text content is the same response, for clients that read only text.
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


async def test_tools_are_declared_as_for_gemini() -> None:
    async with open_bar() as bar:
        server = build_mcp_server(bar.toolset)
        async with Client(server) as client:
            tools = (await client.list_tools()).tools
    assert [t.name for t in tools] == list(bar.toolset.tool_names)
    for tool, declaration in zip(tools, bar.toolset.declarations, strict=True):
        assert tool.description == declaration.description
        expected = declaration.parameters_json_schema or {"type": "object", "properties": {}}
        assert tool.input_schema == expected
        # Every tool has an output schema: its ok response or the error response.
        assert tool.output_schema == output_schema(RESULT_SCHEMAS[tool.name])
    assert {t.name for t in tools if t.annotations and t.annotations.read_only_hint} == {
        "get_menu",
        "get_balance",
        "get_bill",
    }
    assert {t.name for t in tools if t.annotations and t.annotations.open_world_hint} == {
        "create_stripe_payment",
        "check_payment_status",
    }


def test_a_catalog_shops_reading_tools_are_read_only_too() -> None:
    """The hints come with each tool, not from a list of the bar's names: a plugin's
    ``get_catalog`` only reads, as the bar's ``get_menu`` does."""
    catalog = Catalog({"Bagel": "2.50"}, merchant="Bakery", currency="eur")
    manager = TabManager(MemoryTabStore(), catalog=catalog)
    toolset = Toolset(manager=manager, payments=None, tools=CATALOG_TOOLS)
    hinted = {
        tool.name: (tool.annotations.read_only_hint, tool.annotations.open_world_hint)
        for tool in mcp_tools(toolset)
        if tool.annotations is not None
    }
    assert hinted == {
        "get_catalog": (True, False),
        "order_item": (False, False),
        "cancel_last_order": (False, False),
        "get_bill": (True, False),
        "create_stripe_payment": (False, True),
        "check_payment_status": (False, True),
    }


async def test_order_tip_pay_and_check_settle_the_tab_once() -> None:
    async with open_bar() as bar:
        tabs = TabPolicy.for_stdio()
        server = build_mcp_server(bar.toolset, tabs=tabs)
        with anyio.fail_after(30):
            async with Client(server) as client:
                order = await client.call_tool("order_drink", {"name": "Martini", "quantity": 2})
                tip = await client.call_tool("set_tip", {"percent": 20})
                link = await client.call_tool("create_stripe_payment", {})
                url = _structured(link)["result"]["url"]
                assert bar.pay(url).paid
                paid = await client.call_tool("check_payment_status", {})
                again = await client.call_tool("check_payment_status", {})
        assert tabs.process_tab is not None
        state = await bar.manager.get(tabs.process_tab)
    assert _structured(order)["result"]["tab_cents"] == 2600
    assert _structured(tip)["result"]["total_due_cents"] == 3120
    assert _structured(link)["result"]["amount_cents"] == 3120
    assert _structured(link)["result"]["is_simulated"] is False
    assert _structured(paid)["result"]["payment_status"] == "succeeded"
    assert _structured(paid)["result"]["applied"] is True
    assert _structured(again)["result"]["applied"] is False
    assert (state.tab_cents, state.balance_cents, state.payment_status.value) == (
        0,
        100_000 - 2600,
        "completed",
    )


async def test_results_and_errors_are_the_toolsets_own() -> None:
    async with open_bar() as bar:
        tabs = TabPolicy(fixed="same-tab")
        server = build_mcp_server(bar.toolset, tabs=tabs)
        async with Client(server) as client:
            bad = await client.call_tool(
                "order_drink", {"name": "Martini", "quantity": 0, "colour": "blue"}
            )
            unknown = await client.call_tool("order_drink", {"name": "Mojito"})
            menu = await client.call_tool("get_menu", {})
        direct_bad = await bar.toolset.call(
            "order_drink", {"name": "Martini", "quantity": 0, "colour": "blue"}, "same-tab"
        )
        direct_menu = await bar.toolset.call("get_menu", {}, "same-tab")
        state = await bar.manager.get("same-tab")
    assert bad.is_error and unknown.is_error and not menu.is_error
    assert _structured(bad) == direct_bad
    assert direct_bad["error"] == "INVALID_ARGUMENTS"
    assert {f["field"] for f in direct_bad["fields"]} == {"quantity", "colour"}
    assert _structured(unknown)["error"] == "UNKNOWN_ITEM"
    assert _structured(unknown)["retryable"] is True
    assert _structured(menu) == direct_menu
    assert state.version == 0  # refused calls changed nothing


SIGNER = Signer(b"m" * 32, purpose=TAB_HANDLE_PURPOSE)


async def test_handles_are_issued_by_the_server_and_a_guessed_one_is_refused() -> None:
    async with open_bar() as bar:
        server = build_mcp_server(bar.toolset, tabs=TabPolicy(signer=SIGNER))
        async with Client(server) as client:
            nobody = await client.call_tool("get_bill", {})
            handle = (nobody.meta or {})[TAB_META_KEY]
            await client.call_tool("order_drink", {"name": "IPA"}, meta={TAB_META_KEY: handle})
            alice = await client.call_tool("get_bill", {}, meta={TAB_META_KEY: handle})
            second = (await client.call_tool("get_bill", {})).meta or {}
            bob = await client.call_tool("get_bill", {}, meta={TAB_META_KEY: second[TAB_META_KEY]})
            guesses = [
                await client.call_tool("get_bill", {}, meta={TAB_META_KEY: guess})
                for guess in (
                    "alice",
                    "a",
                    handle[:-1] + ("A" if handle[-1] != "A" else "B"),
                    Signer(b"x" * 32, purpose=TAB_HANDLE_PURPOSE).issue(),
                    f"mcp-h-{handle}",
                )
            ]
    assert _structured(nobody)["error"] == "INVALID_SESSION_ID"
    assert TAB_META_KEY in _structured(nobody)["message"]
    assert len(handle) >= 43 and handle != second[TAB_META_KEY]
    assert _structured(alice)["result"]["tab_cents"] == 600
    assert _structured(bob)["result"]["tab_cents"] == 0
    for guessed in guesses:
        assert _structured(guessed)["error"] == "INVALID_SESSION_ID"
        assert "issued" in _structured(guessed)["message"]
    # The tab id is a digest: the handle (a credential) is in no store or trace.
    assert all(handle not in tab for tab in await bar.manager.store.session_ids())


async def test_without_a_signer_no_handle_is_accepted_or_issued() -> None:
    async with open_bar() as bar:
        server = build_mcp_server(bar.toolset, tabs=TabPolicy())
        async with Client(server) as client:
            nobody = await client.call_tool("get_bill", {})
            named = await client.call_tool("get_bill", {}, meta={TAB_META_KEY: "alice"})
    assert nobody.meta is None or TAB_META_KEY not in nobody.meta
    assert _structured(named)["error"] == "INVALID_SESSION_ID"


def test_tab_policy_prefers_fixed_then_session_then_handle_then_process() -> None:
    policy = TabPolicy(fixed=None, process_tab="mcp-p-proc", signer=SIGNER)
    handle = SIGNER.issue()
    assert TabPolicy(fixed="bar", process_tab="p").tab_for({TAB_META_KEY: "x"}, "s") == "bar"
    by_handle = policy.tab_for({TAB_META_KEY: handle}, None)
    assert by_handle is not None and by_handle.startswith("mcp-h-") and handle not in by_handle
    by_session = policy.tab_for({}, "secret-session-id")
    assert by_session is not None and by_session.startswith("mcp-s-")
    assert "secret-session-id" not in by_session
    assert by_session != policy.tab_for({}, "another-session")
    # A handshake session keeps its tab: a handle cannot switch it.
    with pytest.raises(StateError, match="cannot switch"):
        policy.tab_for({TAB_META_KEY: handle}, "secret-session-id")
    assert policy.tab_for(None, None) == "mcp-p-proc"
    assert TabPolicy().tab_for(None, None) is None
    with pytest.raises(StateError):
        policy.tab_for({TAB_META_KEY: 7}, None)
    with pytest.raises(StateError):
        policy.tab_for({TAB_META_KEY: "x"}, None)
    first, second = TabPolicy.for_stdio().process_tab, TabPolicy.for_stdio().process_tab
    assert first is not None and first.startswith("mcp-p-") and first != second


async def test_every_result_fits_its_output_schema_on_every_path() -> None:
    from jsonschema import Draft202012Validator

    from maya.sandbox import CARD_GENERIC_DECLINE

    async with open_bar() as bar:
        call = bar.toolset.call
        results: list[tuple[str, dict[str, Any]]] = []

        async def run(name: str, args: dict[str, Any], tab: str = "t") -> dict[str, Any]:
            response = await call(name, args, tab)
            results.append((name, response))
            return response

        await run("get_menu", {})
        await run("get_balance", {})
        await run("order_drink", {"name": "Martini", "modifiers": ["gin", "dry"]})
        await run("set_tip", {"percent": 15})
        await run("set_tip", {"percent": 15})  # the same again removes it
        await run("set_tip", {"percent": 10})
        await run("remove_tip", {})
        link = await run("create_stripe_payment", {})
        await run("create_stripe_payment", {})  # reused
        await run("check_payment_status", {})  # unpaid: polled until the (fake) deadline
        bar.pay(link["result"]["url"], CARD_GENERIC_DECLINE)
        await run("check_payment_status", {})  # failed
        await run("order_drink", {"name": "Water"})
        await run("create_stripe_payment", {})  # replaces the old link
        bar.pay((await bar.manager.get("t")).current_payment.url or "")  # type: ignore[union-attr]
        await run("check_payment_status", {})  # succeeded
        await run("check_payment_status", {})  # already settled
        await run("get_bill", {})
    assert all(response["status"] == "ok" for _, response in results), results
    statuses = [r["result"]["payment_status"] for n, r in results if n == "check_payment_status"]
    assert statuses == ["pending", "failed", "succeeded", "succeeded"]
    for name, response in results:
        validator = Draft202012Validator(output_schema(RESULT_SCHEMAS[name]))
        problems = [e.message for e in validator.iter_errors(response)]
        assert not problems, (name, problems, response)
        # The models describe today's results key for key: a round trip changes nothing.
        model = RESULT_MODELS[name].model_validate(response["result"])
        assert model.model_dump(mode="json", exclude_unset=True) == response["result"], name


async def test_a_catalogs_tools_have_output_schemas_their_results_fit() -> None:
    from jsonschema import Draft202012Validator

    from maya.mcp_server import mcp_tools
    from maya.state import Catalog, MemoryTabStore, TabManager
    from maya.tools import CATALOG_TOOLS, RESULT_MODELS, Toolset

    catalog = Catalog({"Flat white": "3.20", "Croissant": "2.10"}, merchant="Bean", currency="eur")
    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=catalog), payments=None)
    schemas = {tool.name: tool.output_schema for tool in mcp_tools(toolset)}
    assert list(schemas) == [spec.name for spec in CATALOG_TOOLS]
    assert all(schema is not None for schema in schemas.values())
    for name, args in [
        ("get_catalog", {}),
        ("order_item", {"name": "Flat white", "quantity": 2}),
        ("get_bill", {}),
        ("cancel_last_order", {}),
        ("order_item", {"name": "Tea"}),  # refused: the error fits too
    ]:
        response = await toolset.call(name, args, "shop")
        problems = [e.message for e in Draft202012Validator(schemas[name]).iter_errors(response)]
        assert not problems, (name, problems, response)
        if response["status"] == "ok":
            model = RESULT_MODELS[name].model_validate(response["result"])
            assert model.model_dump(mode="json", exclude_unset=True) == response["result"], name
