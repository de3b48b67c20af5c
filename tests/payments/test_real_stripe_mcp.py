"""Our client through the real ``@stripe/mcp`` npm packages (0.2.5 and 0.3.3).

The packages run unchanged under ``node``; only their HTTPS connections are redirected
(see ``real_stripe``). 0.2.5 serves the named tools through stripe-node against a local
stand-in of Stripe's REST API; 0.3.3 relays stdio to "mcp.stripe.com", which here is the
sandbox's hosted MCP app behind a local TLS endpoint. Each test checks that the key never
appears in anything printed or logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from maya.payments import (
    PaymentLinkCreationError,
    PaymentStatusUnsupportedError,
    RetryPolicy,
    StripeMCPClient,
    StripeUnavailableError,
    Timeouts,
)
from maya.sandbox import CARD_SUCCESS, MEMORY, FaultConfig, SandboxStore, build_http_app, pay_link
from maya.testing import FakeClock
from maya.testing.client_calls import count_client_calls, sessions_attempted

from .real_stripe import (
    FakeStripeApi,
    LocalPki,
    at_root,
    make_pki,
    never_printed,
    node_server,
    package_entry,
    serve_tls,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET_KEY = "sk_test_51MayaRealPackageTestKey0000000000000000"
RESTRICTED_KEY = "rk_test_51MayaRealRelayTestKey00000000000000000"
# A cold node start on a loaded 2-core machine can be slow; the connect bound allows it.
BOUND = 90


@pytest.fixture
def pki(tmp_path: Path) -> LocalPki:
    return make_pki(tmp_path)


@pytest.fixture
def store() -> AsyncIterator[SandboxStore]:
    with SandboxStore(MEMORY) as sandbox_store:
        yield sandbox_store


@pytest.fixture
def everything(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    # DEBUG on every Maya logger, so the servers' own stderr lines are captured too.
    caplog.set_level(logging.DEBUG, logger="maya")
    return caplog


def client_for(config: object, clock: FakeClock) -> StripeMCPClient:
    from maya.payments import McpServerConfig

    assert isinstance(config, McpServerConfig)
    return StripeMCPClient.from_config(
        config,
        clock=clock,
        sleep=clock.sleep,
        timeouts=Timeouts(call_s=20.0),
        retries=RetryPolicy(overall_timeout=60.0),
    )


async def test_real_0_2_5_makes_a_link_through_stripe_node(
    pki: LocalPki,
    store: SandboxStore,
    clock: FakeClock,
    everything: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    entry = package_entry("0.2.5")
    api = FakeStripeApi(store)
    with anyio.fail_after(BOUND):
        async with serve_tls(api.app(), pki) as port:
            config = node_server(
                "stripe",
                entry,
                ["--tools=all", f"--api-key={SECRET_KEY}"],
                pki=pki,
                redirects={"api.stripe.com": port},
            )
            async with client_for(config, clock) as client:
                calls = count_client_calls(client)
                link = await client.create_payment_link(2600, "Maya bar tab", "real-025")
                assert client.dialect_name == "named"
                # Asked again after a write whose outcome was lost, it cannot look: it
                # refuses rather than write a second link.
                with pytest.raises(PaymentLinkCreationError) as again:
                    await client.create_payment_link(
                        2600, "Maya bar tab", "real-025", look_first=True
                    )
                assert pay_link(store, link.payment_id, CARD_SUCCESS).paid
                with pytest.raises(PaymentStatusUnsupportedError):
                    await client.check_payment_status(link.payment_id)
                assert await client.deactivate_payment_link(link.payment_id) is False
    assert not link.is_simulated
    assert link.url.startswith("https://buy.stripe.com/test_")
    assert again.value.link_maybe_created is True
    # Three calls, as stripe-node made them: product, price, link.
    assert api.requests == ["POST /v1/products", "POST /v1/prices", "POST /v1/payment_links"]
    assert api.authorizations == {f"Bearer {SECRET_KEY}"}
    assert calls.count() == 3
    assert [
        calls.count(tool=t) for t in ("create_product", "create_price", "create_payment_link")
    ] == [1, 1, 1]
    out, err = capfd.readouterr()
    never_printed(SECRET_KEY, out, err, everything.text)
    assert "Stripe MCP Server running on stdio" in everything.text  # stderr, logged at DEBUG
    assert "Stripe MCP Server running on stdio" not in err


async def test_real_0_2_5_stripe_failure_is_retried_as_a_failure(
    pki: LocalPki, store: SandboxStore, clock: FakeClock, everything: pytest.LogCaptureFixture
) -> None:
    entry = package_entry("0.2.5")
    api = FakeStripeApi(store, fail_links=1)
    with anyio.fail_after(BOUND):
        async with serve_tls(api.app(), pki) as port:
            config = node_server(
                "stripe",
                entry,
                ["--tools=all", f"--api-key={SECRET_KEY}"],
                pki=pki,
                redirects={"api.stripe.com": port},
            )
            async with client_for(config, clock) as client:
                link = await client.create_payment_link(1500, "Tab", "real-025-500")
    # The quoted "Failed to create payment link" is a Stripe failure: retried, and the
    # product and price already made are reused.
    assert not link.is_simulated
    assert clock.sleeps == [1.0]
    assert api.requests.count("POST /v1/payment_links") == 2
    assert api.requests.count("POST /v1/products") == 1
    assert len(store.list_payment_links(limit=100)[0]) == 1
    never_printed(SECRET_KEY, everything.text)


async def test_real_0_2_5_without_tools_exits_and_the_key_stays_hidden(
    pki: LocalPki,
    clock: FakeClock,
    everything: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    entry = package_entry("0.2.5")
    config = node_server("stripe", entry, [f"--api-key={SECRET_KEY}"], pki=pki, redirects={})
    with anyio.fail_after(BOUND):
        async with client_for(config, clock) as client:
            link = await client.create_payment_link(1500, "Tab", "no-tools")
            assert not await client.is_available()
            spawned = sessions_attempted(client)
            with pytest.raises(StripeUnavailableError):
                await client.check_payment_status("plink_123")
            assert sessions_attempted(client) == spawned  # the breaker holds: no respawn
    assert link.is_simulated
    assert "The --tools arguments must be provided." in everything.text
    out, err = capfd.readouterr()
    never_printed(SECRET_KEY, out, err, everything.text)


async def test_real_0_3_3_relay_creates_pays_reads_and_deactivates(
    pki: LocalPki,
    store: SandboxStore,
    clock: FakeClock,
    everything: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    entry = package_entry("0.3.3")
    app = build_http_app(
        store, dialect="hosted", checkout_base_url="https://buy.stripe.com", host="mcp.stripe.com"
    )
    with anyio.fail_after(BOUND):
        async with serve_tls(at_root(app), pki) as port:
            config = node_server(
                "stripe",
                entry,
                [f"--api-key={RESTRICTED_KEY}"],
                pki=pki,
                redirects={"mcp.stripe.com": port},
            )
            async with client_for(config, clock) as client:
                calls = count_client_calls(client)
                link = await client.create_payment_link(3100, "Maya bar tab", "real-033")
                assert client.dialect_name == "hosted"
                pending = await client.check_payment_status(link.payment_id, deadline=0.1)
                assert pay_link(store, link.url, CARD_SUCCESS).paid
                paid = await client.check_payment_status(link.payment_id)
                assert await client.deactivate_payment_link(link.payment_id) is True
    assert not link.is_simulated
    assert link.url.startswith("https://buy.stripe.com/b/test_")
    assert pending.status == "pending"
    assert (paid.status, paid.amount_paid_cents, paid.payments_received) == ("succeeded", 3100, 1)
    assert pay_link(store, link.url, CARD_SUCCESS).outcome == "inactive"
    # The accounts once, then two calls for the link (price with inline product, link).
    assert calls.count(tool="list_available_accounts_or_orgs") == 1
    assert calls.count(op="PostPrices") == 1
    assert calls.count(op="PostPaymentLinks") == 1
    assert calls.count(op="PostProducts") == 0
    out, err = capfd.readouterr()
    never_printed(RESTRICTED_KEY, out, err, everything.text)


async def test_real_0_3_3_relay_retries_stripe_failures_without_a_second_link(
    pki: LocalPki, store: SandboxStore, clock: FakeClock, everything: pytest.LogCaptureFixture
) -> None:
    entry = package_entry("0.3.3")
    faults = FaultConfig.parse("rate_limit_on=1,act_then_error_on=2,only=PostPaymentLinks")
    app = build_http_app(
        store,
        dialect="hosted",
        faults=faults,
        checkout_base_url="https://buy.stripe.com",
        host="mcp.stripe.com",
    )
    with anyio.fail_after(BOUND):
        async with serve_tls(at_root(app), pki) as port:
            config = node_server(
                "stripe",
                entry,
                [f"--api-key={RESTRICTED_KEY}"],
                pki=pki,
                redirects={"mcp.stripe.com": port},
            )
            async with client_for(config, clock) as client:
                calls = count_client_calls(client)
                link = await client.create_payment_link(1800, "Tab", "real-033-faults")
    # Rate limited (nothing made), then made but answered api_error, then found by key.
    assert not link.is_simulated
    assert clock.sleeps == [1.0, 2.0]
    assert [item["id"] for item in store.list_payment_links(limit=100)[0]] == [link.payment_id]
    assert calls.count(op="GetPaymentLinks") == 1
    never_printed(RESTRICTED_KEY, everything.text)


async def test_real_0_3_3_relay_never_answers_discover_which_is_why_maya_uses_initialize(
    pki: LocalPki, store: SandboxStore, tmp_path: Path
) -> None:
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    entry = package_entry("0.3.3")
    app = build_http_app(
        store, dialect="hosted", checkout_base_url="https://buy.stripe.com", host="mcp.stripe.com"
    )
    async with serve_tls(at_root(app), pki) as port:
        config = node_server(
            "stripe",
            entry,
            [f"--api-key={RESTRICTED_KEY}"],
            pki=pki,
            redirects={"mcp.stripe.com": port},
        )
        params = StdioServerParameters(
            command=config.command or "node",
            args=list(config.arg_values()),
            env=config.env_values(),
        )
        with (tmp_path / "relay-stderr.txt").open("w") as quiet:
            # mcp 2.x's default opens with server/discover: the relay forwards it, the
            # stateful server rejects it, and the relay only logs that. No answer comes.
            with anyio.move_on_after(4) as waited:
                async with Client(stdio_client(params, errlog=quiet), cache=None) as client:
                    await client.list_tools()
            assert waited.cancelled_caught
            # The classic handshake works through the same relay.
            with anyio.fail_after(BOUND):
                async with Client(
                    stdio_client(params, errlog=quiet), cache=None, mode="legacy"
                ) as client:
                    names = {tool.name for tool in (await client.list_tools()).tools}
    assert "list_available_accounts_or_orgs" in names
