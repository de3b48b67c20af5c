"""StripeMCPClient against the sandbox in memory, in both of Stripe's dialects."""

from __future__ import annotations

import pytest

from maya.codes import ErrorCode
from maya.payments import (
    CHAT_STATUS_BOUNDS,
    PaymentLink,
    PaymentLinkCreationError,
    PaymentRequestInvalidError,
    PaymentStatusTimeoutError,
    PaymentStatusUnsupportedError,
    StatusBounds,
)
from maya.sandbox import (
    CARD_GENERIC_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    LIST_TOOLS,
    CallCounts,
    SandboxStore,
    pay_link,
)
from maya.testing import FakeClock

from .conftest import MakeClient

pytestmark = pytest.mark.anyio


async def test_create_link_makes_product_price_and_link(
    make_client: MakeClient, store: SandboxStore
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(4250, "Maya tab", "sess_1_1700000000")
    assert isinstance(link, PaymentLink)
    assert link.payment_id.startswith("plink_")
    assert "/b/test_" in link.url
    assert (link.amount_cents, link.currency, link.description) == (4250, "usd", "Maya tab")
    assert not link.is_simulated
    stored = store.get_payment_link(link.payment_id)
    assert stored is not None
    assert stored["metadata"]["idempotency_key"] == "sess_1_1700000000"
    assert stored["line_items"]["data"][0]["amount_total"] == 4250


async def test_extra_metadata_is_stored_on_the_link(
    make_client: MakeClient, store: SandboxStore
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(
            100, "Tab", "k1", metadata={"maya_session": "sess_1"}
        )
    stored = store.get_payment_link(link.payment_id)
    assert stored is not None and stored["metadata"]["maya_session"] == "sess_1"


async def test_asked_to_look_first_a_client_finds_the_link_instead_of_writing(
    make_client: MakeClient, store: SandboxStore, calls: CallCounts
) -> None:
    """Another process (here: another client) finds the "write sent" mark: it looks."""
    async with make_client() as client:
        first = await client.create_payment_link(1000, "Tab", "same-key")
    writes = calls.count(op="PostPaymentLinks")
    async with make_client() as other_process:
        found = await other_process.create_payment_link(1000, "Tab", "same-key", look_first=True)
    assert found.payment_id == first.payment_id and found.url == first.url
    assert calls.count(op="PostPaymentLinks") == writes
    assert len(store.list_payment_links()[0]) == 1


async def test_a_write_is_sent_only_after_the_callers_mark(
    make_client: MakeClient, store: SandboxStore, calls: CallCounts
) -> None:
    marks: list[float] = []

    async def mark(within_s: float) -> None:
        marks.append(within_s)
        assert calls.count(op="PostPaymentLinks") == 0  # not sent yet

    class Refused(Exception):
        pass

    async def refuse(within_s: float) -> None:
        raise Refused

    async with make_client() as client:
        link = await client.create_payment_link(1000, "Tab", "marked", before_write=mark)
        with pytest.raises(Refused):
            await client.create_payment_link(1000, "Tab", "refused", before_write=refuse)
    assert len(marks) == 1 and 0 < marks[0] <= client.retry_policy.overall_timeout
    assert [made["id"] for made in store.list_payment_links()[0]] == [link.payment_id]


async def test_the_named_dialect_refuses_to_write_when_asked_to_look_first(
    make_client: MakeClient, store: SandboxStore
) -> None:
    """It cannot look a link up, and a second write could make a second link."""
    async with make_client(dialect="named") as client:
        with pytest.raises(PaymentLinkCreationError) as caught:
            await client.create_payment_link(1000, "Tab", "k", look_first=True)
    assert caught.value.link_maybe_created is True
    assert store.list_payment_links()[0] == []


async def test_deactivate_makes_the_link_unpayable(
    make_client: MakeClient, store: SandboxStore
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(500, "Tab", "k-deact")
        assert await client.deactivate_payment_link(link.payment_id) is True
    stored = store.get_payment_link(link.payment_id)
    assert stored is not None and stored["active"] is False
    assert pay_link(store, link.url, CARD_SUCCESS).outcome == "inactive"


async def test_deactivating_an_unknown_link_reports_false(make_client: MakeClient) -> None:
    async with make_client() as client:
        assert await client.deactivate_payment_link("plink_doesnotexist") is False


async def test_status_goes_from_pending_to_succeeded_after_paying(
    make_client: MakeClient, store: SandboxStore, clock: FakeClock
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(1250, "Tab", "k-pay")
        pending = await client.check_payment_status(link.payment_id, deadline=0.5)
        assert pending.status == "pending"
        assert pending.polls == 1
        assert pay_link(store, link.url, CARD_SUCCESS).paid
        paid = await client.check_payment_status(link.payment_id)
    assert paid.status == "succeeded"
    assert paid.amount_paid_cents == 1250
    assert paid.polls == 1
    assert not paid.is_simulated


async def test_background_status_polls_every_interval_until_the_deadline(
    make_client: MakeClient, clock: FakeClock, calls: CallCounts
) -> None:
    async with make_client(status_bounds=StatusBounds()) as client:
        link = await client.create_payment_link(1250, "Tab", "k-poll")
        started = clock()
        result = await client.check_payment_status(link.payment_id)
    assert result.status == "pending"  # Stripe answered every time: not paid yet
    assert result.polls == 15
    assert clock.sleeps == [2.0] * 14
    assert clock() - started <= 30.0
    assert calls.count(op="GetCheckoutSessions") == 15


async def test_a_status_check_answers_at_chat_speed_by_default(
    make_client: MakeClient, clock: FakeClock
) -> None:
    async with make_client() as client:
        assert client.status_bounds == CHAT_STATUS_BOUNDS
        link = await client.create_payment_link(1250, "Tab", "k-chat")
        started = clock()
        result = await client.check_payment_status(link.payment_id)
    assert result.status == "pending"
    assert clock() - started <= CHAT_STATUS_BOUNDS.deadline_s <= 5.0


async def test_a_status_check_is_a_timeout_only_when_stripe_did_not_answer(
    make_client: MakeClient, clock: FakeClock
) -> None:
    async with make_client(faults="error_rate=1.0,only=GetCheckoutSessions") as client:
        link = await client.create_payment_link(1250, "Tab", "k-silent")
        started = clock()
        with pytest.raises(PaymentStatusTimeoutError) as caught:
            await client.check_payment_status(link.payment_id)
    assert caught.value.code is ErrorCode.PAYMENT_STATUS_TIMEOUT
    assert clock() - started <= CHAT_STATUS_BOUNDS.deadline_s


async def test_status_returns_as_soon_as_the_payment_lands(
    make_client: MakeClient, store: SandboxStore, clock: FakeClock
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(300, "Tab", "k-late")
        real_sleep = clock.sleep

        async def pay_on_third_wait(seconds: float) -> None:
            await real_sleep(seconds)
            if len(clock.sleeps) == 3:
                pay_link(store, link.url, CARD_SUCCESS)

        client._sleep = pay_on_third_wait
        result = await client.check_payment_status(link.payment_id)
    assert (result.status, result.polls) == ("succeeded", 4)


@pytest.mark.parametrize(
    ("card", "reason"),
    [(CARD_GENERIC_DECLINE, "generic_decline"), (CARD_INSUFFICIENT_FUNDS, "insufficient_funds")],
)
async def test_a_declined_card_means_failed_with_the_decline_code(
    make_client: MakeClient, store: SandboxStore, card: str, reason: str
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(900, "Tab", f"k-{reason}")
        assert pay_link(store, link.url, card).outcome == "declined"
        result = await client.check_payment_status(link.payment_id)
    assert (result.status, result.failure_reason, result.amount_paid_cents) == (
        "failed",
        reason,
        None,
    )


async def test_a_later_successful_card_wins_over_an_earlier_decline(
    make_client: MakeClient, store: SandboxStore
) -> None:
    async with make_client() as client:
        link = await client.create_payment_link(900, "Tab", "k-retry-card")
        pay_link(store, link.url, CARD_GENERIC_DECLINE)
        pay_link(store, link.url, CARD_SUCCESS)
        result = await client.check_payment_status(link.payment_id)
    assert result.status == "succeeded"


async def test_named_dialect_creates_links(make_client: MakeClient, store: SandboxStore) -> None:
    async with make_client(dialect="named") as client:
        link = await client.create_payment_link(2000, "Tab", "k-named")
        assert client.dialect_name == "named"
    assert link.payment_id.startswith("plink_") and not link.is_simulated
    assert store.get_payment_link(link.payment_id) is not None


async def test_named_dialect_status_is_unsupported(make_client: MakeClient) -> None:
    async with make_client(dialect="named") as client:
        link = await client.create_payment_link(2000, "Tab", "k-named-status")
        with pytest.raises(PaymentStatusUnsupportedError) as info:
            await client.check_payment_status(link.payment_id)
    assert info.value.code == ErrorCode.PAYMENT_STATUS_UNSUPPORTED


async def test_named_dialect_cannot_deactivate_and_says_so(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    async with make_client(dialect="named") as client:
        link = await client.create_payment_link(2000, "Tab", "k-named-deact")
        assert await client.deactivate_payment_link(link.payment_id) is False
    assert "cannot deactivate" in caplog.text


@pytest.mark.parametrize(
    ("amount", "description", "key", "field"),
    [
        (0, "Tab", "k", "amount_cents"),
        (-5, "Tab", "k", "amount_cents"),
        (True, "Tab", "k", "amount_cents"),
        (12.5, "Tab", "k", "amount_cents"),
        ("100", "Tab", "k", "amount_cents"),
        (100_000_000, "Tab", "k", "amount_cents"),
        (100, "", "k", "description"),
        (100, "   ", "k", "description"),
        (100, "x" * 251, "k", "description"),
        (100, "Tab", "", "idempotency_key"),
        (100, "Tab", "k" * 256, "idempotency_key"),
    ],
)
async def test_invalid_arguments_are_refused_without_any_call(
    make_client: MakeClient,
    calls: CallCounts,
    amount: object,
    description: object,
    key: object,
    field: str,
) -> None:
    async with make_client() as client:
        with pytest.raises(PaymentRequestInvalidError) as info:
            await client.create_payment_link(amount, description, key)  # type: ignore[arg-type]
        assert calls.count(tool=LIST_TOOLS) == 0
    assert info.value.field == field
    assert info.value.code == ErrorCode.INVALID_ARGUMENTS
    assert calls.count() == 0


async def test_status_and_deactivate_refuse_empty_ids(make_client: MakeClient) -> None:
    async with make_client() as client:
        with pytest.raises(PaymentRequestInvalidError):
            await client.check_payment_status("")
        with pytest.raises(PaymentRequestInvalidError):
            await client.deactivate_payment_link("  ")


async def test_one_session_serves_every_call(make_client: MakeClient, store: SandboxStore) -> None:
    async with make_client() as client:
        for n in range(5):
            link = await client.create_payment_link(100 + n, "Tab", f"k-reuse-{n}")
            await client.check_payment_status(link.payment_id, deadline=0.1)
        assert client.connect_count == 1
        assert client.connected
    assert not client.connected


async def test_each_mcp_call_is_logged_once_without_arguments(
    make_client: MakeClient, payments_log: pytest.LogCaptureFixture
) -> None:
    async with make_client() as client:
        await client.create_payment_link(4321, "Secret description", "k-log")
    lines = [r.getMessage() for r in payments_log.records if r.getMessage().startswith("mcp call")]
    assert [line.split(" op=")[1].split()[0] for line in lines] == [
        "-",
        "PostPrices",  # the product is made inline (product_data): one call fewer
        "PostPaymentLinks",
    ]
    assert all(" ms=" in line and " outcome=ok" in line for line in lines)
    assert "Secret description" not in payments_log.text
