"""The older named dialect, quirks included, in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from mcp import Client
from sandbox_helpers import BASE_URL, text_of

from maya.sandbox import CARD_SUCCESS, SandboxStore, build_mcp_server, pay_link

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(store: SandboxStore) -> AsyncIterator[Client]:
    server = build_mcp_server(store, dialect="named", checkout_base_url=BASE_URL)
    async with Client(server) as client:
        yield client


async def test_lists_three_tools_whose_schemas_forbid_extra_properties(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == {"create_product", "create_price", "create_payment_link"}
    assert all(tool.input_schema["additionalProperties"] is False for tool in tools.values())
    assert tools["create_payment_link"].input_schema["required"] == ["price", "quantity"]


async def test_payment_link_answers_only_id_and_url_and_is_payable(
    client: Client, store: SandboxStore
) -> None:
    product = json.loads(text_of(await client.call_tool("create_product", {"name": "IPA"})))
    price = json.loads(
        text_of(
            await client.call_tool(
                "create_price", {"product": product["id"], "unit_amount": 600, "currency": "usd"}
            )
        )
    )
    result = await client.call_tool(
        "create_payment_link",
        {"price": price["id"], "quantity": 2, "redirect_url": "https://example.com/thanks"},
    )
    link = json.loads(text_of(result))
    assert set(link) == {"id", "url"}
    assert link["url"].startswith(f"{BASE_URL}/b/test_")
    paid = pay_link(store, link["url"], CARD_SUCCESS)
    assert paid.session is not None
    assert paid.session["amount_total"] == 1200
    stored = store.get_payment_link(link["id"])
    assert stored is not None
    assert stored["after_completion"]["redirect"]["url"] == "https://example.com/thanks"


async def test_a_stripe_failure_is_plain_text_without_is_error(client: Client) -> None:
    result = await client.call_tool("create_payment_link", {"price": "price_nope", "quantity": 1})
    assert result.is_error is False
    # JSON-quoted, as the real @stripe/mcp 0.2.x sends it (JSON.stringify of the sentence).
    assert text_of(result) == '"Failed to create payment link"'


async def test_a_bad_price_is_plain_text_failure(client: Client) -> None:
    result = await client.call_tool(
        "create_price", {"product": "prod_nope", "unit_amount": 100, "currency": "usd"}
    )
    assert (result.is_error, text_of(result)) == (False, '"Failed to create price"')


async def test_extra_arguments_such_as_metadata_are_rejected(client: Client) -> None:
    result = await client.call_tool(
        "create_payment_link", {"price": "price_x", "quantity": 1, "metadata": {"k": "v"}}
    )
    assert result.is_error
    assert "metadata" in text_of(result)
