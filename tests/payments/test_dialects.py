"""One link's whole life in each of Stripe's three dialects, against the sandbox in memory."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from maya.payments import PaymentStatusUnsupportedError
from maya.sandbox import CARD_SUCCESS, CallCounts, SandboxStore, pay_link
from maya.testing.client_calls import count_client_calls

from .conftest import MakeClient

pytestmark = pytest.mark.anyio

# What one new link costs, per dialect (the hosted one reads its account once per session).
CALLS_PER_LINK = {
    "hosted": {"PostPrices": 1, "PostPaymentLinks": 1},
    "generic": {"PostPrices": 1, "PostPaymentLinks": 1},
    "named": {"create_product": 1, "create_price": 1, "create_payment_link": 1},
}


def spent_by_name(calls: CallCounts, names: Iterable[str]) -> dict[str, int]:
    """Calls so far per Stripe operation (hosted, generic) or tool (named)."""
    return {name: calls.count(op=name) + calls.count(tool=name) for name in names}


@pytest.mark.parametrize("dialect", ["hosted", "generic", "named"])
async def test_a_link_is_made_paid_read_and_closed_where_the_dialect_can(
    make_client: MakeClient, store: SandboxStore, calls: CallCounts, dialect: str
) -> None:
    async with make_client(dialect=dialect) as client:
        sent = count_client_calls(client)  # the sandbox does not count the accounts tool
        first = await client.create_payment_link(900, "Warm-up", f"{dialect}-warm")
        expected = CALLS_PER_LINK[dialect]
        before, before_total = spent_by_name(calls, expected), calls.count()
        link = await client.create_payment_link(2600, "Maya bar tab", f"{dialect}-key")
        after = spent_by_name(calls, expected)
        assert {name: after[name] - before[name] for name in expected} == expected
        assert calls.count() - before_total == sum(expected.values())  # and nothing else
        assert client.dialect_name == dialect
        assert pay_link(store, link.url, CARD_SUCCESS).paid
        if dialect == "named":
            with pytest.raises(PaymentStatusUnsupportedError):
                await client.check_payment_status(link.payment_id)
            assert await client.deactivate_payment_link(link.payment_id) is False
        else:
            status = await client.check_payment_status(link.payment_id)
            assert (status.status, status.amount_paid_cents, status.payments_received) == (
                "succeeded",
                2600,
                1,
            )
            assert await client.deactivate_payment_link(link.payment_id) is True
            assert pay_link(store, link.url, CARD_SUCCESS).outcome == "inactive"
    assert not first.is_simulated and not link.is_simulated
    if dialect == "hosted":
        assert sent.count(tool="list_available_accounts_or_orgs") == 1


async def test_a_link_paid_twice_reports_both_payments(
    make_client: MakeClient, store: SandboxStore
) -> None:
    async with make_client(dialect="hosted") as client:
        link = await client.create_payment_link(1100, "Tab", "twice")
        assert pay_link(store, link.url, CARD_SUCCESS).paid
        assert pay_link(store, link.url, CARD_SUCCESS).paid
        status = await client.check_payment_status(link.payment_id)
    assert (status.payments_received, status.amount_paid_cents, status.amount_received_cents) == (
        2,
        1100,
        2200,
    )
