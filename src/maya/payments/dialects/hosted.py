"""Today's hosted Stripe MCP surface: the generic operations plus an account context.

``stripe_context`` and ``livemode`` come from ``list_available_accounts_or_orgs``, read
once per probe; a refused context is forgotten so the next attempt reads them again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from maya.payments._failures import CallFailure
from maya.payments._session import ToolInfo, ToolReply
from maya.payments.dialects.base import ToolCaller, failure_from_error_reply
from maya.payments.dialects.generic import GenericDialect, needs_context

__all__ = ["ACCOUNTS_TOOL", "AccountContext", "HostedDialect", "choose_account"]

ACCOUNTS_TOOL = "list_available_accounts_or_orgs"

_ACCOUNT_ID = re.compile(r"\bacct_[A-Za-z0-9]+\b")
_ID_KEYS = ("stripe_context", "account_id", "account", "id")


@dataclass(frozen=True, slots=True)
class AccountContext:
    """The ``stripe_context`` / ``livemode`` pair every hosted call carries.

    Attributes:
        stripe_context: The account id (``acct_...``).
        livemode: Whether it is the live account.
        name: Its display name, when the server gave one.
    """

    stripe_context: str
    livemode: bool
    name: str | None = None


class HostedDialect(GenericDialect):
    """The generic operations with the account context the hosted server requires."""

    name: ClassVar[str] = "hosted"

    def __init__(self, tools: Mapping[str, ToolInfo] | None = None) -> None:
        super().__init__(tools)
        self.context: AccountContext | None = None

    @classmethod
    def matches(cls, tools: Collection[str], schemas: Mapping[str, ToolInfo]) -> bool:
        """The generic tools, with a write tool that requires the account context."""
        return cls.required_tools <= set(tools) and needs_context(schemas)

    def context_args(self) -> dict[str, Any]:
        """``stripe_context`` and ``livemode`` from the accounts read in ``prepare``."""
        if self.context is None:
            raise CallFailure("connect", "the account context was not read yet")
        return {"stripe_context": self.context.stripe_context, "livemode": self.context.livemode}

    async def prepare(self, call: ToolCaller, *, livemode: bool, account: str | None) -> None:
        """Read the accounts once and keep the one to act on.

        Raises:
            CallFailure: the accounts could not be read (transient), or none fits
                (``rejected``, code ``account_missing`` / ``account_ambiguous``).
        """
        if self.context is not None:
            return
        reply = await call(ACCOUNTS_TOOL, {}, op=ACCOUNTS_TOOL, repeat_safe=True)
        if reply.is_error:
            raise failure_from_error_reply(reply, ACCOUNTS_TOOL)
        self.context = choose_account(
            parse_accounts(reply.text), livemode=livemode, account=account
        )

    def read_reply(self, reply: ToolReply, tool: str, operation: str) -> dict[str, Any]:
        """As in the generic dialect; a refused context is forgotten and retried.

        Raises:
            CallFailure: as ``GenericDialect.read_reply``; a refused context becomes a
                transient ``server`` failure so the retry reads the accounts again.
        """
        try:
            return super().read_reply(reply, tool, operation)
        except CallFailure as failure:
            if failure.stripe_code != "context_invalid":
                raise
            self.context = None
            raise CallFailure(
                "server", failure.summary, tool=failure.tool, stripe_code="context_invalid"
            ) from None


def parse_accounts(text: str) -> list[AccountContext]:
    """Every account in the accounts tool's answer, whatever its exact shape.

    The answer is JSON (a list, or an object holding one) whose entries carry an
    ``acct_`` id under one of ``stripe_context``, ``account_id``, ``account``, ``id``
    and a mode as ``livemode`` (bool) or ``mode`` / ``type`` (``live``, ``test``,
    ``sandbox``).
    """
    try:
        body: Any = json.loads(text)
    except ValueError:
        return [AccountContext(found, livemode=False) for found in _ACCOUNT_ID.findall(text)]
    return list(_accounts_in(body))


def _accounts_in(node: Any) -> Iterator[AccountContext]:
    if isinstance(node, list):
        for item in node:
            yield from _accounts_in(item)
        return
    if not isinstance(node, dict):
        return
    found = next(
        (
            node[key]
            for key in _ID_KEYS
            if isinstance(node.get(key), str) and node[key].startswith("acct_")
        ),
        None,
    )
    if found is not None:
        mode = node.get("livemode")
        if not isinstance(mode, bool):
            word = str(node.get("mode") or node.get("type") or "").lower()
            mode = word == "live"
        name = node.get("display_name") or node.get("name")
        yield AccountContext(found, livemode=mode, name=name if isinstance(name, str) else None)
        return
    for value in node.values():
        yield from _accounts_in(value)


def choose_account(
    accounts: list[AccountContext], *, livemode: bool, account: str | None
) -> AccountContext:
    """The account to act on.

    Raises:
        CallFailure: ``rejected`` with code ``account_missing`` (none in the key's mode,
            or the chosen id is not among them) or ``account_ambiguous`` (several and
            none chosen); the summary lists the candidates.
    """
    mode = "live" if livemode else "test"
    fitting = [a for a in accounts if a.livemode == livemode]
    if account is not None:
        chosen = [a for a in fitting if a.stripe_context == account]
        if chosen:
            return chosen[0]
        raise CallFailure(
            "rejected",
            f"account {account} (MAYA_STRIPE_ACCOUNT) is not among the {mode}-mode accounts "
            f"the key can use: {_ids(fitting) or 'none'}",
            tool=ACCOUNTS_TOOL,
            stripe_code="account_missing",
        )
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        raise CallFailure(
            "rejected",
            f"the key can use no {mode}-mode account (found: {_ids(accounts) or 'none'})",
            tool=ACCOUNTS_TOOL,
            stripe_code="account_missing",
        )
    raise CallFailure(
        "rejected",
        f"the key can use several {mode}-mode accounts ({_ids(fitting)}); "
        "set MAYA_STRIPE_ACCOUNT to the one Maya should use",
        tool=ACCOUNTS_TOOL,
        stripe_code="account_ambiguous",
    )


def _ids(accounts: list[AccountContext]) -> str:
    return ", ".join(a.stripe_context for a in accounts[:10])
