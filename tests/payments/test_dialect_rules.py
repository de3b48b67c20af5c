"""The small pure rules at the protocol edge: failure texts, link URLs, account choice."""

from __future__ import annotations

import pytest

from maya.payments._failures import CallFailure
from maya.payments._links import STRIPE_LINK_HOSTS, check_link_url
from maya.payments._session import ToolReply
from maya.payments.dialects import choose_dialect
from maya.payments.dialects.base import failure_from_error_reply, failure_from_text
from maya.payments.dialects.hosted import AccountContext, choose_account, parse_accounts


@pytest.mark.parametrize(
    ("text", "kind", "code", "maybe_acted"),
    [
        (
            "Stripe API error: An error occurred with our connection to Stripe.",
            "server",
            None,
            True,
        ),
        ("Stripe API error: Request rate limit exceeded.", "server", "rate_limit", False),
        (
            "Stripe API error: No such payment_link: 'plink_1'",
            "rejected",
            "resource_missing",
            False,
        ),
        ("Stripe API error: Invalid integer: abc", "rejected", None, False),
        (
            "Operation 'GetCheckoutSessions' is not available. Use stripe_api_search to find "
            "available operations.",
            "rejected",
            "operation_unavailable",
            False,
        ),
        (
            "No account found for the provided stripe_context and livemode.",
            "rejected",
            "context_invalid",
            False,
        ),
        ('"Failed to create payment link"', "server", None, True),
        ("<html>502 Bad Gateway</html>", "server", None, True),
    ],
)
def test_plain_text_failures_are_typed(
    text: str, kind: str, code: str | None, maybe_acted: bool
) -> None:
    failure = failure_from_text(text, "stripe_api_write")
    assert (failure.kind, failure.stripe_code, failure.maybe_acted) == (kind, code, maybe_acted)


def test_stripe_429_shape_is_transient() -> None:
    body = '{"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "x"}}'
    failure = failure_from_error_reply(ToolReply(True, body), "stripe_api_write")
    assert failure.kind == "server" and failure.retryable and not failure.maybe_acted


def test_a_secret_in_a_failure_text_is_masked() -> None:
    failure = failure_from_text("Stripe API error: Invalid API Key provided: sk_test_abc123", "t")
    assert "abc123" not in failure.describe()


@pytest.mark.parametrize(
    ("url", "loopback", "ok"),
    [
        ("https://buy.stripe.com/test_abc", False, True),
        ("https://checkout.stripe.com/c/pay/cs_test_abc", False, True),
        ("http://buy.stripe.com/test_abc", False, False),
        ("javascript:alert(document.cookie)//", False, False),
        ("https://buy.stripe.com.evil.example/test", False, False),
        ("https://evil.example/buy.stripe.com", False, False),
        ("https://user:pw@buy.stripe.com/test", False, False),
        ("https://buy.stripe.com/test abc", False, False),
        ("data:text/html,<script>", False, False),
        ("http://127.0.0.1:8123/b/test_abc", True, True),
        ("http://127.0.0.1:8123/b/test_abc", False, False),
        ("http://localhost:8123/b/test_abc", True, True),
        ("http://10.0.0.1/b/test_abc", True, False),
        ("https://buy.stripe.com/" + "a" * 3000, False, False),
    ],
)
def test_link_urls(url: str, loopback: bool, ok: bool) -> None:
    problem = check_link_url(url, hosts=STRIPE_LINK_HOSTS, allow_loopback=loopback)
    assert (problem is None) == ok, problem


def test_accounts_in_any_reasonable_shape() -> None:
    nested = '{"accounts": [{"stripe_context": "acct_1A", "livemode": false, "display_name": "A"}]}'
    listed = '[{"id": "acct_1B", "mode": "live"}, {"account_id": "acct_1C", "type": "sandbox"}]'
    assert parse_accounts(nested) == [AccountContext("acct_1A", False, "A")]
    assert parse_accounts(listed) == [
        AccountContext("acct_1B", True),
        AccountContext("acct_1C", False),
    ]
    assert parse_accounts("Your account: acct_1D") == [AccountContext("acct_1D", False)]


def test_account_choice() -> None:
    test_a, test_b, live = (
        AccountContext("acct_1A", False),
        AccountContext("acct_1B", False),
        AccountContext("acct_1L", True),
    )
    assert choose_account([test_a, live], livemode=False, account=None) == test_a
    assert choose_account([test_a, live], livemode=True, account=None) == live
    assert choose_account([test_a, test_b], livemode=False, account="acct_1B") == test_b
    for accounts, chosen, code in (
        ([test_a, test_b], None, "account_ambiguous"),
        ([live], None, "account_missing"),
        ([test_a], "acct_1Z", "account_missing"),
    ):
        with pytest.raises(CallFailure) as info:
            choose_account(accounts, livemode=False, account=chosen)
        assert info.value.stripe_code == code


def test_dialect_choice_reads_the_schemas() -> None:
    from maya.payments._session import ToolInfo

    hosted = [
        ToolInfo(
            "stripe_api_write",
            {
                "type": "object",
                "required": ["stripe_api_operation_id", "parameters", "stripe_context", "livemode"],
            },
        ),
        ToolInfo("stripe_api_read", {"type": "object"}),
        ToolInfo("list_available_accounts_or_orgs", {"type": "object"}),
    ]
    generic = [ToolInfo("stripe_api_write", {"type": "object"}), ToolInfo("stripe_api_read", {})]
    named = ["create_product", "create_price", "create_payment_link", "create_customer"]
    assert [choose_dialect(t).name for t in (hosted, generic, named)] == [  # type: ignore[union-attr]
        "hosted",
        "generic",
        "named",
    ]
    assert choose_dialect(["weather"]) is None
