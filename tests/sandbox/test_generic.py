"""The generic dialect (stripe_api_write / stripe_api_read), in memory."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from mcp import Client
from sandbox_helpers import BASE_URL, Stripe, text_of

from maya.sandbox import (
    CARD_GENERIC_DECLINE,
    CARD_SUCCESS,
    SandboxStore,
    build_mcp_server,
    pay_link,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stripe(store: SandboxStore) -> AsyncIterator[Stripe]:
    server = build_mcp_server(store, dialect="generic", checkout_base_url=BASE_URL)
    async with Client(server) as client:
        yield Stripe(client)


async def test_lists_the_two_generic_tools_with_operation_and_parameters(stripe: Stripe) -> None:
    tools = {tool.name: tool for tool in (await stripe.client.list_tools()).tools}
    assert set(tools) == {"stripe_api_write", "stripe_api_read"}
    for tool in tools.values():
        assert tool.input_schema["required"] == ["stripe_api_operation_id", "parameters"]
        assert tool.input_schema["properties"]["parameters"]["type"] == "object"


async def test_creates_stripe_shaped_product_price_and_link(stripe: Stripe) -> None:
    product = await stripe.call("PostProducts", {"name": "Martini", "description": "Dry"})
    price = await stripe.call(
        "PostPrices", {"product": product["id"], "unit_amount": "1300", "currency": "USD"}
    )
    link = await stripe.call(
        "PostPaymentLinks",
        {"line_items": [{"price": price["id"], "quantity": 2}], "metadata": {"tab": 7}},
    )
    assert (product["object"], product["id"][:5], product["livemode"]) == (
        "product",
        "prod_",
        False,
    )
    assert (price["object"], price["unit_amount"], price["currency"]) == ("price", 1300, "usd")
    assert isinstance(price["created"], int)
    assert link["object"] == "payment_link"
    assert link["id"].startswith("plink_")
    assert link["url"].startswith(f"{BASE_URL}/b/test_")
    assert (link["active"], link["metadata"]) == (True, {"tab": "7"})
    assert link["line_items"]["data"][0]["amount_total"] == 2600


async def test_prices_can_create_their_product_inline(stripe: Stripe) -> None:
    price = await stripe.call(
        "PostPrices", {"product_data": {"name": "Soda"}, "unit_amount": 300, "currency": "usd"}
    )
    assert price["product"].startswith("prod_")


async def test_a_second_write_with_the_same_key_makes_a_second_link_as_at_stripe(
    stripe: Stripe,
) -> None:
    first = await stripe.link(metadata={"idempotency_key": "sess_1"})
    price = first["line_items"]["data"][0]["price"]["id"]
    again = await stripe.call(
        "PostPaymentLinks",
        {
            "line_items": [{"price": price, "quantity": 1}],
            "metadata": {"idempotency_key": "sess_1"},
        },
    )
    assert again["id"] != first["id"]
    assert again["url"] != first["url"]
    assert again["metadata"] == first["metadata"]


async def test_deactivating_a_link_via_update(stripe: Stripe) -> None:
    link = await stripe.link()
    updated = await stripe.call(
        "PostPaymentLinksPaymentLink", {"payment_link": link["id"], "active": "false"}
    )
    fetched = await stripe.call("GetPaymentLinksPaymentLink", {"payment_link": link["id"]})
    active = await stripe.call("GetPaymentLinks", {"active": True})
    assert updated["active"] is False
    assert fetched["active"] is False
    assert active["data"] == []


async def test_get_payment_links_lists_newest_first_with_limit(stripe: Stripe) -> None:
    older = await stripe.link(name="Gin")
    newer = await stripe.link(name="Rum")
    listing = await stripe.call("GetPaymentLinks", {"limit": 1})
    assert listing["object"] == "list"
    assert [link["id"] for link in listing["data"]] == [newer["id"]]
    assert listing["has_more"] is True
    assert older["id"] != newer["id"]


async def test_checkout_sessions_report_paid_after_a_successful_card(
    stripe: Stripe, store: SandboxStore
) -> None:
    link = await stripe.link(unit_amount=1250, metadata={"idempotency_key": "k"})
    assert await stripe.sessions(link["id"]) == []
    pay_link(store, link["url"], CARD_SUCCESS)
    [session] = await stripe.sessions(link["id"])
    assert session["id"].startswith("cs_test_")
    assert session["object"] == "checkout.session"
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    assert (session["amount_total"], session["currency"]) == (1250, "usd")
    assert session["payment_link"] == link["id"]
    assert session["metadata"] == {"idempotency_key": "k"}


async def test_checkout_sessions_filter_by_status(stripe: Stripe, store: SandboxStore) -> None:
    link = await stripe.link()
    pay_link(store, link["id"], CARD_GENERIC_DECLINE)
    complete = await stripe.call(
        "GetCheckoutSessions", {"payment_link": link["id"], "status": "complete"}
    )
    [open_session] = (
        await stripe.call("GetCheckoutSessions", {"payment_link": link["id"], "status": "open"})
    )["data"]
    assert complete["data"] == []
    assert open_session["payment_status"] == "unpaid"
    assert open_session["last_payment_error"]["decline_code"] == "generic_decline"


@pytest.mark.parametrize(
    ("operation", "parameters", "param", "message"),
    [
        ("PostProducts", {}, "name", "Missing required param: name."),
        ("PostProducts", {"name": "x", "colour": "red"}, "colour", "Received unknown parameter"),
        (
            "PostPaymentLinks",
            {"line_items": [{"price": "price_missing", "quantity": 1}]},
            "line_items[0][price]",
            "No such price: 'price_missing'",
        ),
        (
            "PostPaymentLinks",
            {"line_items": [{"price": "price_x", "quantity": 0}]},
            "line_items[0][quantity]",
            "Invalid value",
        ),
        ("PostPrices", {"unit_amount": 1, "currency": "usd"}, "product", "either `product`"),
        ("PostPaymentLinksPaymentLink", {"payment_link": "plink_x"}, "payment_link", "No such"),
        ("GetPaymentLinksPaymentLink", {"payment_link": "plink_x"}, "payment_link", "No such"),
        ("PostRefunds", {}, "stripe_api_operation_id", "Unknown operation"),
    ],
)
async def test_bad_requests_are_is_error_with_a_stripe_error_body(
    stripe: Stripe, operation: str, parameters: dict[str, object], param: str, message: str
) -> None:
    error = await stripe.error(operation, dict(parameters))
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert message in error["message"]


async def test_a_write_through_the_read_tool_is_refused(stripe: Stripe) -> None:
    result = await stripe.client.call_tool(
        "stripe_api_read",
        {"stripe_api_operation_id": "PostProducts", "parameters": {"name": "x"}},
    )
    assert result.is_error
    assert "stripe_api_write" in json.loads(text_of(result))["error"]["message"]
    assert (await stripe.call("GetPaymentLinks", {}))["data"] == []
