"""Fault injection: parsing the spec, and each fault against an in-memory server."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from mcp import Client
from sandbox_helpers import BASE_URL, Stripe, text_of

from maya.sandbox import FaultConfig, FaultSpecError, SandboxStore, build_mcp_server
from maya.sandbox.server import Dialect


def test_parses_the_documented_example() -> None:
    config = FaultConfig.parse(
        "latency=0.2,hang_after=3,crash_after=5,error_rate=1.0,malformed=1,text_failures=1"
    )
    assert config == FaultConfig(
        latency=0.2,
        hang_after=3,
        crash_after=5,
        error_rate=1.0,
        malformed="text",
        text_failures=True,
    )


def test_only_takes_plus_separated_names_and_later_keys_win() -> None:
    config = FaultConfig.parse("only=PostPaymentLinks+create_payment_link, latency=1, latency=2")
    assert config.only == {"PostPaymentLinks", "create_payment_link"}
    assert config.latency == 2
    assert config.applies_to(["stripe_api_write", "PostPaymentLinks"])
    assert not config.applies_to(["stripe_api_read", "GetCheckoutSessions"])


def test_the_flag_is_added_to_the_environment_spec() -> None:
    config = FaultConfig.from_sources(
        "latency=0.5", {"MAYA_SANDBOX_FAULTS": "latency=0.1,error_rate=0.5"}
    )
    assert (config.latency, config.error_rate) == (0.5, 0.5)


def test_no_spec_means_no_faults() -> None:
    assert not FaultConfig.from_sources(None, {}).active


@pytest.mark.parametrize("spec", ["latency", "speed=3", "error_rate=2", "hang_after=-1"])
def test_bad_specs_are_rejected_with_the_key_named(spec: str) -> None:
    with pytest.raises(FaultSpecError, match=spec.split("=")[0]):
        FaultConfig.parse(spec)


@asynccontextmanager
async def _stripe(
    store: SandboxStore,
    spec: str,
    dialect: Dialect = "generic",
    crash: Callable[[], None] | None = None,
) -> AsyncIterator[Stripe]:
    server = build_mcp_server(
        store,
        dialect=dialect,
        faults=FaultConfig.parse(spec),
        checkout_base_url=BASE_URL,
        crash=crash,
    )
    async with Client(server) as client:
        yield Stripe(client)


@pytest.mark.anyio
async def test_latency_slows_every_call(store: SandboxStore) -> None:
    async with _stripe(store, "latency=0.2") as stripe:
        started = time.monotonic()
        with anyio.fail_after(10):
            await stripe.call("PostProducts", {"name": "Slow"})
        elapsed = time.monotonic() - started
    assert elapsed >= 0.2


@pytest.mark.anyio
async def test_hang_after_n_never_answers_and_does_nothing(store: SandboxStore) -> None:
    async with _stripe(store, "hang_after=1") as stripe:
        with anyio.fail_after(5):
            await stripe.call("PostProducts", {"name": "Answered"})
        with pytest.raises(TimeoutError), anyio.fail_after(0.3):
            await stripe.call("PostProducts", {"name": "Never"})
    assert store.list_payment_links() == ([], False)


@pytest.mark.anyio
async def test_act_then_hang_creates_the_link_and_a_listing_finds_it_by_its_key(
    store: SandboxStore,
) -> None:
    async with _stripe(store, "act_then_hang_on=1,only=PostPaymentLinks") as stripe:
        product = await stripe.call("PostProducts", {"name": "Tab"})
        price = await stripe.call(
            "PostPrices", {"product": product["id"], "unit_amount": 500, "currency": "usd"}
        )
        params = {
            "line_items": [{"price": price["id"], "quantity": 1}],
            "metadata": {"idempotency_key": "sess_42"},
        }
        with pytest.raises(TimeoutError), anyio.fail_after(0.3):
            await stripe.call("PostPaymentLinks", params)
        [made], _ = store.list_payment_links()
        with anyio.fail_after(5):
            listed = await stripe.call("GetPaymentLinks", {"active": True, "limit": 100})
    # The link exists though its answer was lost; listing (not a second write) finds it.
    found = [link for link in listed["data"] if link["metadata"] == params["metadata"]]
    assert [link["id"] for link in found] == [made["id"]]


@pytest.mark.anyio
async def test_error_rate_one_fails_generic_calls_with_is_error_and_does_nothing(
    store: SandboxStore,
) -> None:
    async with _stripe(store, "error_rate=1") as stripe:
        with anyio.fail_after(5):
            error = await stripe.error("PostProducts", {"name": "Nope"})
    assert error["type"] == "api_error"


@pytest.mark.anyio
async def test_text_failures_answer_named_calls_with_plain_text(store: SandboxStore) -> None:
    async with _stripe(store, "text_failures=1", dialect="named") as stripe:
        with anyio.fail_after(5):
            result = await stripe.client.call_tool("create_product", {"name": "X"})
    assert (result.is_error, text_of(result)) == (False, '"Failed to create product"')


@pytest.mark.anyio
async def test_malformed_text_is_not_json_but_the_work_is_done(store: SandboxStore) -> None:
    async with _stripe(store, "malformed=text,only=PostProducts") as stripe:
        with anyio.fail_after(5):
            result = await stripe.raw("PostProducts", {"name": "Garbled"})
    assert not result.is_error
    with pytest.raises(ValueError):
        json.loads(text_of(result))


@pytest.mark.anyio
async def test_malformed_fields_drops_id_and_url(store: SandboxStore) -> None:
    async with _stripe(store, "malformed=fields,only=PostPaymentLinks") as stripe:
        with anyio.fail_after(5):
            link = await stripe.link()
    assert "id" not in link
    assert "url" not in link
    assert link["object"] == "payment_link"


@pytest.mark.anyio
async def test_only_leaves_other_operations_alone_and_uncounted(store: SandboxStore) -> None:
    async with _stripe(store, "hang_after=0,only=GetCheckoutSessions") as stripe:
        with anyio.fail_after(5):
            link = await stripe.link()
        with pytest.raises(TimeoutError), anyio.fail_after(0.3):
            await stripe.sessions(link["id"])


@pytest.mark.anyio
async def test_crash_after_n_calls_the_crash_hook_on_the_next_call(store: SandboxStore) -> None:
    crashes: list[int] = []
    async with _stripe(store, "crash_after=1", crash=lambda: crashes.append(1)) as stripe:
        with anyio.fail_after(5):
            await stripe.call("PostProducts", {"name": "Fine"})
            assert crashes == []
            result = await stripe.raw("PostProducts", {"name": "Boom"})
    assert crashes == [1]
    assert result.is_error
