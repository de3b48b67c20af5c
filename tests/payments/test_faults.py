"""Each injected fault: bounded time, retries only for transient failures, one link per key.

The sandbox runs in memory with fault injection; the client gets a fake clock and sleep,
so waits between retries cost nothing, and small real per-call timeouts for hangs.
"""

from __future__ import annotations

import time

import anyio
import pytest

from maya.codes import ErrorCode
from maya.payments import (
    PaymentLink,
    PaymentLinkCreationError,
    PaymentStatusTimeoutError,
    StatusBounds,
    StripeMCPClient,
    Timeouts,
)
from maya.sandbox import CallCounts, SandboxStore
from maya.testing import FakeClock

from .conftest import MakeClient

pytestmark = pytest.mark.anyio

# Hangs are real: keep each call's timeout short so a hang costs a fraction of a second.
FAST = {"timeouts": Timeouts(call_s=0.2)}


def links(store: SandboxStore) -> list[str]:
    return [link["id"] for link in store.list_payment_links(limit=100)[0]]


async def create_within_bound(
    client: StripeMCPClient, clock: FakeClock, key: str = "key"
) -> PaymentLink:
    started_real = time.monotonic()
    started = clock()
    with anyio.fail_after(15):
        async with client:
            link = await client.create_payment_link(1500, "Tab", key)
    assert clock() - started <= 15.0
    assert time.monotonic() - started_real <= 15.0
    return link


async def test_latency_only_slows_things_down(
    make_client: MakeClient, clock: FakeClock, store: SandboxStore
) -> None:
    link = await create_within_bound(make_client(faults="latency=0.02"), clock)
    assert not link.is_simulated
    assert links(store) == [link.payment_id]


@pytest.mark.parametrize(
    "faults",
    [
        "hang_after=0",
        "error_rate=1.0",
        "malformed=text",
        "crash_after=0",
    ],
)
async def test_persistent_faults_fall_back_in_test_mode_after_three_retries(
    make_client: MakeClient,
    clock: FakeClock,
    store: SandboxStore,
    calls: CallCounts,
    faults: str,
) -> None:
    link = await create_within_bound(make_client(faults=faults, **FAST), clock)
    assert link.is_simulated
    assert link.payment_id.startswith("sim_plink_")
    assert link.url.startswith("https://simulated.maya.invalid/")
    assert clock.sleeps == [1.0, 2.0, 4.0]
    # The product is made inline with the price (product_data), so PostPrices leads.
    assert calls.count(op="PostPrices") == 4
    assert links(store) == []


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ("hang_after=0", PaymentLinkCreationError),
        ("error_rate=1.0", PaymentLinkCreationError),
        ("malformed=text", PaymentLinkCreationError),
    ],
)
async def test_persistent_faults_raise_in_live_mode(
    make_client: MakeClient, clock: FakeClock, faults: str, error: type[Exception]
) -> None:
    client = make_client(faults=faults, mode="live", **FAST)
    with anyio.fail_after(15), pytest.raises(error) as info:
        async with client:
            await client.create_payment_link(1500, "Tab", "live-key")
    assert isinstance(info.value, PaymentLinkCreationError)
    assert info.value.code == ErrorCode.PAYMENT_LINK_FAILED
    assert info.value.attempts == 4
    assert info.value.server == "in-memory"
    assert info.value.last_error


async def test_one_transient_failure_is_retried_with_the_same_key(
    make_client: MakeClient, clock: FakeClock, store: SandboxStore
) -> None:
    link = await create_within_bound(make_client(faults="hang_on=1", **FAST), clock)
    assert not link.is_simulated
    assert clock.sleeps == [1.0]
    assert links(store) == [link.payment_id]


async def test_act_then_hang_then_retry_makes_one_link(
    make_client: MakeClient,
    clock: FakeClock,
    store: SandboxStore,
    calls: CallCounts,
) -> None:
    client = make_client(faults="act_then_hang_on=1,only=PostPaymentLinks", **FAST)
    link = await create_within_bound(client, clock)
    assert not link.is_simulated
    assert links(store) == [link.payment_id]
    # The retry looked the link up by its key instead of trusting a second create.
    assert calls.count(op="GetPaymentLinks") == 1
    assert calls.count(op="PostPrices") == 1


async def test_a_garbled_link_answer_is_recovered_by_its_key(
    make_client: MakeClient, clock: FakeClock, store: SandboxStore
) -> None:
    link = await create_within_bound(
        make_client(faults="malformed=fields,only=PostPaymentLinks", **FAST), clock
    )
    assert not link.is_simulated
    assert links(store) == [link.payment_id]


async def test_named_text_failures_are_failures_and_are_retried(
    make_client: MakeClient,
    clock: FakeClock,
    store: SandboxStore,
    payments_log: pytest.LogCaptureFixture,
    calls: CallCounts,
) -> None:
    link = await create_within_bound(make_client(dialect="named", faults="text_failures=1"), clock)
    assert link.is_simulated
    assert calls.count(tool="create_product") == 4
    assert "outcome=ok" in payments_log.text  # the server answered; the client judged it
    assert links(store) == []


async def test_named_text_failure_in_live_mode_raises(make_client: MakeClient) -> None:
    client = make_client(dialect="named", faults="text_failures=1", mode="live")
    with anyio.fail_after(15), pytest.raises(PaymentLinkCreationError, match="Failed to create"):
        async with client:
            await client.create_payment_link(1500, "Tab", "k")


async def test_named_garbled_link_is_not_repeated(
    make_client: MakeClient,
    clock: FakeClock,
    store: SandboxStore,
    calls: CallCounts,
) -> None:
    client = make_client(dialect="named", faults="malformed=text,only=create_payment_link")
    link = await create_within_bound(client, clock)
    # The named tools cannot find a link by key, so a second create could duplicate it.
    assert calls.count(tool="create_payment_link") == 1
    assert link.is_simulated
    assert len(links(store)) == 1


async def test_named_link_without_url_is_a_failure(
    make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(dialect="named", faults="malformed=fields,only=create_payment_link")
    link = await create_within_bound(client, clock)
    assert link.is_simulated


async def test_a_refusal_is_not_retried(
    make_client: MakeClient, clock: FakeClock, payments_log: pytest.LogCaptureFixture
) -> None:
    # A restricted key without the permission: Stripe refuses; retrying cannot help.
    async with make_client(faults="refuse=1,only=PostPaymentLinks") as client:
        with pytest.raises(PaymentLinkCreationError, match="refused") as info:
            await client.create_payment_link(2000, "Tab", "refused")
    assert info.value.attempts == 1
    assert info.value.link_maybe_created is False
    assert clock.sleeps == []


async def test_status_with_a_hanging_server_times_out_within_its_deadline(
    make_client: MakeClient, clock: FakeClock
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(1500, "Tab", "k-status")
    hanging = make_client(
        faults="hang_after=0,only=GetCheckoutSessions", status_bounds=StatusBounds()
    )
    started = time.monotonic()
    with anyio.fail_after(30), pytest.raises(PaymentStatusTimeoutError) as info:
        async with hanging:
            await hanging.check_payment_status(link.payment_id, poll_timeout=0.05)
    assert time.monotonic() - started < 30
    assert info.value.attempts == 15
    assert info.value.code == ErrorCode.PAYMENT_STATUS_TIMEOUT


async def test_status_survives_some_failed_polls(
    make_client: MakeClient, clock: FakeClock, store: SandboxStore
) -> None:
    from maya.sandbox import CARD_SUCCESS, pay_link

    async with make_client() as client:
        link = await client.create_payment_link(1500, "Tab", "k-flaky")
    pay_link(store, link.url, CARD_SUCCESS)
    flaky = make_client(
        faults="error_rate=1.0,only=GetCheckoutSessions", status_bounds=StatusBounds()
    )
    async with flaky:
        with pytest.raises(PaymentStatusTimeoutError):
            await flaky.check_payment_status(link.payment_id)
    assert clock.sleeps[-14:] == [2.0] * 14
    recovered = make_client(faults="hang_on=1,only=GetCheckoutSessions")
    async with recovered:
        result = await recovered.check_payment_status(link.payment_id, poll_timeout=0.05)
    assert (result.status, result.polls) == ("succeeded", 2)


async def test_simulated_links_report_simulated_never_succeeded(
    make_client: MakeClient, clock: FakeClock
) -> None:
    client = make_client(faults="error_rate=1.0")
    async with client:
        link = await client.create_payment_link(1500, "Tab", "k-sim")
        status = await client.check_payment_status(link.payment_id)
        assert await client.deactivate_payment_link(link.payment_id) is True
    assert status.is_simulated and status.status == "simulated" and status.provider == "simulated"
    assert status.amount_paid_cents is None  # nothing was paid: the caller knows its amount
