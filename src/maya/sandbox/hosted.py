"""Today's hosted Stripe MCP surface (``https://mcp.stripe.com``, as probed in 2026).

The generic operations plus what Maya's client must cope with: a required
``stripe_context``/``livemode`` pair, bare objects as JSON, plain-text tool errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from mcp.server.mcpserver.tools import Tool
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from maya.sandbox._results import json_result, malform, operation_result, text_result
from maya.sandbox.faults import FaultInjector
from maya.sandbox.operations import OPERATIONS
from maya.sandbox.store import SandboxStore

__all__ = [
    "DEFAULT_ACCOUNTS",
    "HOSTED_TOOLS",
    "SandboxAccount",
    "hosted_tools",
]

HOSTED_TOOLS = (
    "stripe_api_read",
    "stripe_api_write",
    "stripe_api_search",
    "stripe_api_details",
    "list_available_accounts_or_orgs",
    "get_stripe_account_info",
    "search_stripe_documentation",
    "create_refund",
)
"""The hosted dialect's tool names."""


@dataclass(frozen=True, slots=True)
class SandboxAccount:
    """One account the sandbox's key can act on.

    Attributes:
        id: ``acct_...``.
        livemode: Whether it is a live account (the sandbox never moves money anyway).
        name: Its display name.
    """

    id: str
    livemode: bool
    name: str


DEFAULT_ACCOUNTS: tuple[SandboxAccount, ...] = (
    SandboxAccount("acct_1MayaSandbox00000", livemode=False, name="Maya sandbox"),
)
"""The sandbox's one test-mode account."""

_HINT = "\n\nUse stripe_api_details with this operation to see its parameters."
_INJECTED = "Stripe API error: An error occurred with our connection to Stripe. (sandbox fault)"
_REFUSED = (
    "Stripe API error: The provided key 'rk_test_***' does not have the required "
    "permissions for this endpoint on account 'acct_1MayaSandbox00000'."
)
_RATE_LIMITED = (
    "Stripe API error: Request rate limit exceeded. You can learn more about rate limits "
    "here https://stripe.com/docs/rate-limits."
)

StripeContext = Annotated[
    str, Field(description="The account id (acct_...) from list_available_accounts_or_orgs.")
]
Livemode = Annotated[
    bool, Field(description="Whether the account is live; from list_available_accounts_or_orgs.")
]
OperationId = Annotated[
    str, Field(description="Stripe API operation id, e.g. PostPaymentLinks or GetCheckoutSessions.")
]
Parameters = Annotated[
    dict[str, Any],
    Field(description="Path, query and body parameters of the operation, together."),
]


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _not_available(operation_id: str) -> CallToolResult:
    return _error(
        f"Operation '{operation_id}' is not available. "
        "Use stripe_api_search to find available operations."
    )


def _context_problem(
    accounts: Sequence[SandboxAccount], stripe_context: str, livemode: bool
) -> str | None:
    for account in accounts:
        if account.id == stripe_context:
            if account.livemode == livemode:
                return None
            if not account.livemode:
                return (
                    f"The provided account {account.id} is a sandbox account. "
                    "Retry with livemode set to false."
                )
            return (
                f"The provided account {account.id} is a live account. "
                "Retry with livemode set to true."
            )
    return (
        "No account found for the provided stripe_context and livemode. "
        "Use list_available_accounts_or_orgs to find valid values."
    )


def hosted_tools(
    store: SandboxStore,
    *,
    faults: FaultInjector,
    checkout_base_url: str,
    accounts: Sequence[SandboxAccount] = DEFAULT_ACCOUNTS,
) -> list[Tool]:
    """Build the hosted dialect's tools over ``store``.

    Args:
        store: Where the objects live.
        faults: Applied to the operation tools; ``only`` may name a tool or operation.
        checkout_base_url: Prefix for payment link URLs.
        accounts: What ``list_available_accounts_or_orgs`` answers.
    """

    run = partial(
        operation_result,
        store,
        checkout_base_url=checkout_base_url,
        failed=lambda exc: _error(f"Stripe API error: {exc.message}{_HINT}"),
    )

    async def operate(
        write: bool,
        operation_id: str,
        parameters: dict[str, Any],
        stripe_context: str,
        livemode: bool,
    ) -> CallToolResult:
        tool = "stripe_api_write" if write else "stripe_api_read"
        problem = _context_problem(accounts, stripe_context, livemode)
        if problem is not None:
            return _error(problem)
        operation = OPERATIONS.get(operation_id)
        if operation is None or operation.write != write:
            return _not_available(operation_id)
        act = partial(run, operation_id, parameters, write=write)
        return await faults.run(
            (tool, operation_id),
            act,
            fail=lambda: _error(_INJECTED),
            malform=malform,
            rate_limited=lambda: _error(_RATE_LIMITED),
            refused=lambda: _error(_REFUSED),
        )

    async def stripe_api_write(
        stripe_api_operation_id: OperationId,
        parameters: Parameters,
        stripe_context: StripeContext,
        livemode: Livemode,
        human_confirmation: Annotated[
            dict[str, str] | None,
            Field(description="{approval_token} when the operation needs a person's approval."),
        ] = None,
    ) -> CallToolResult:
        del human_confirmation  # nothing in the sandbox needs approval
        return await operate(True, stripe_api_operation_id, parameters, stripe_context, livemode)

    async def stripe_api_read(
        stripe_api_operation_id: OperationId,
        parameters: Parameters,
        stripe_context: StripeContext,
        livemode: Livemode,
    ) -> CallToolResult:
        return await operate(False, stripe_api_operation_id, parameters, stripe_context, livemode)

    async def stripe_api_search(
        query: Annotated[str, Field(description="What to do, in words.")],
        stripe_context: StripeContext,
        livemode: Livemode,
    ) -> CallToolResult:
        problem = _context_problem(accounts, stripe_context, livemode)
        if problem is not None:
            return _error(problem)
        words = {w for w in query.lower().split() if len(w) > 2}
        found = [
            {"stripe_api_operation_id": op.id, "write": op.write}
            for op in OPERATIONS.values()
            if not words or any(w.replace(" ", "") in op.id.lower() for w in words)
        ]
        return json_result(
            {"operations": found or [{"stripe_api_operation_id": o} for o in OPERATIONS]}
        )

    async def stripe_api_details(
        stripe_api_operation_id: OperationId,
        stripe_context: StripeContext,
        livemode: Livemode,
    ) -> CallToolResult:
        problem = _context_problem(accounts, stripe_context, livemode)
        if problem is not None:
            return _error(problem)
        operation = OPERATIONS.get(stripe_api_operation_id)
        if operation is None:
            return _not_available(stripe_api_operation_id)
        return json_result(
            {
                "stripe_api_operation_id": operation.id,
                "write": operation.write,
                "parameters": operation.params.model_json_schema(),
            }
        )

    async def list_available_accounts_or_orgs() -> CallToolResult:
        return json_result(
            {
                "accounts": [
                    {"stripe_context": a.id, "livemode": a.livemode, "display_name": a.name}
                    for a in accounts
                ]
            }
        )

    async def get_stripe_account_info() -> CallToolResult:
        account = accounts[0]
        return json_result(
            {
                "id": account.id,
                "object": "account",
                "livemode": account.livemode,
                "settings": {"dashboard": {"display_name": account.name}},
            }
        )

    async def search_stripe_documentation(
        question: Annotated[str, Field(description="A question about Stripe.")],
    ) -> CallToolResult:
        del question
        return text_result(
            "The sandbox has no documentation index; see https://docs.stripe.com/payment-links."
        )

    async def create_refund(
        payment_intent: Annotated[str, Field(description="The PaymentIntent to refund.")],
        stripe_context: StripeContext,
        livemode: Livemode,
        amount: Annotated[int | None, Field(description="Cents; all of it when omitted.")] = None,
    ) -> CallToolResult:
        del amount
        problem = _context_problem(accounts, stripe_context, livemode)
        if problem is not None:
            return _error(problem)
        return _error(f"Stripe API error: No such payment_intent: '{payment_intent}'{_HINT}")

    described: dict[Callable[..., Any], str] = {
        stripe_api_write: "Create or update Stripe objects by API operation (test mode sandbox).",
        stripe_api_read: "Retrieve or list Stripe objects by API operation (test mode sandbox).",
        stripe_api_search: "Find the API operation for a task.",
        stripe_api_details: "Describe an API operation's parameters.",
        list_available_accounts_or_orgs: (
            "List the accounts this key can act on, with the stripe_context and livemode "
            "values every other tool requires."
        ),
        get_stripe_account_info: "Describe the current account.",
        search_stripe_documentation: "Search Stripe's documentation.",
        create_refund: "Refund a payment.",
    }
    return [Tool.from_function(fn, description=text) for fn, text in described.items()]


def accounts_from_json(text: str) -> tuple[SandboxAccount, ...]:
    """Accounts from ``MAYA_SANDBOX_ACCOUNTS``: ``[{"id", "livemode", "name"}, ...]``.

    Raises:
        ValueError: the text is not such a list.
    """
    data = json.loads(text)
    if not isinstance(data, list) or not data:
        raise ValueError("expected a non-empty JSON list of accounts")
    return tuple(
        SandboxAccount(
            str(a["id"]), livemode=bool(a.get("livemode", False)), name=str(a.get("name", a["id"]))
        )
        for a in data
    )
