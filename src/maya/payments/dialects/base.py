"""What a Stripe MCP dialect does, and the plain data it trades in.

A dialect turns "make a link for this amount", "deactivate it" and "was it paid?" into
calls of one of Stripe's MCP tool sets, and reads the answers. It never sees an MCP
object: calls go through a ``ToolCaller`` and come back as ``ToolReply``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from maya.payments._failures import CallFailure
from maya.payments._session import ToolReply

__all__ = [
    "Dialect",
    "DialectUnsupportedError",
    "LinkCreated",
    "LinkProgress",
    "LinkRequest",
    "StatusReading",
    "ToolCaller",
    "failure_from_error_reply",
    "require_str",
]

# Stripe error types worth retrying: Stripe's side failed, not the request.
_TRANSIENT_STRIPE_TYPES = frozenset({"api_error", "rate_limit_error"})


class ToolCaller(Protocol):
    """Calls one MCP tool within the current operation's time budget."""

    async def __call__(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        op: str | None = None,
        repeat_safe: bool = True,
    ) -> ToolReply:
        """Call ``tool``; raises ``CallFailure`` when no answer arrives."""
        ...


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """A validated request for a payment link.

    Attributes:
        amount_cents: Positive amount in cents.
        description: The product name the customer sees.
        idempotency_key: Same key, same link.
        currency: Lower-case ISO code.
        metadata: Extra metadata for dialects that can store it.
    """

    amount_cents: int
    description: str
    idempotency_key: str
    currency: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class LinkProgress:
    """What earlier attempts at one link already achieved; shared across retries.

    Attributes:
        product_id: A product made by an earlier attempt.
        price_id: A price made by an earlier attempt.
        link_maybe_created: An earlier attempt to create the link itself failed in a
            way that leaves open whether it was made.
    """

    product_id: str | None = None
    price_id: str | None = None
    link_maybe_created: bool = False


@dataclass(frozen=True, slots=True)
class LinkCreated:
    """A payment link as Stripe reported it.

    Attributes:
        payment_id: Stripe's id (``plink_...``).
        url: The checkout URL.
        created: Unix time of creation, when Stripe said.
    """

    payment_id: str
    url: str
    created: int | None = None


@dataclass(frozen=True, slots=True)
class StatusReading:
    """One read of a link's payment state.

    Attributes:
        status: ``pending``, ``succeeded`` or ``failed``.
        amount_paid_cents: What was paid, when it succeeded.
        failure_reason: Stripe's decline code, when it failed.
    """

    status: Literal["pending", "succeeded", "failed"]
    amount_paid_cents: int | None = None
    failure_reason: str | None = None


class DialectUnsupportedError(Exception):
    """The dialect has no tool for this operation."""


class Dialect(ABC):
    """Base for Stripe's MCP dialects; subclasses implement what their tools allow.

    Attributes:
        name: ``generic`` or ``named``.
        required_tools: Tool names that must all be listed for the dialect to apply.
        supports_status: Whether ``read_status`` works.
        supports_deactivate: Whether ``deactivate`` works.
    """

    name: ClassVar[str]
    required_tools: ClassVar[frozenset[str]]
    supports_status: ClassVar[bool] = False
    supports_deactivate: ClassVar[bool] = False

    @classmethod
    def matches(cls, tools: Collection[str]) -> bool:
        """Whether a server listing ``tools`` speaks this dialect."""
        return cls.required_tools <= set(tools)

    @abstractmethod
    async def create_link(
        self, call: ToolCaller, request: LinkRequest, progress: LinkProgress
    ) -> LinkCreated:
        """Make a payment link (product, price, link), resuming from ``progress``.

        Raises:
            CallFailure: a call failed or its answer cannot be used.
        """

    async def deactivate(self, call: ToolCaller, payment_id: str) -> None:
        """Deactivate a payment link so it can no longer be paid.

        Raises:
            DialectUnsupportedError: the dialect has no tool for it.
            CallFailure: the call failed.
        """
        raise DialectUnsupportedError(f"the {self.name} dialect cannot deactivate links")

    async def read_status(self, call: ToolCaller, payment_id: str) -> StatusReading:
        """Read whether a payment link has been paid.

        Raises:
            DialectUnsupportedError: the dialect has no tool for it.
            CallFailure: the call failed or its answer cannot be used.
        """
        raise DialectUnsupportedError(f"the {self.name} dialect cannot read payment status")


def failure_from_error_reply(
    reply: ToolReply, tool: str, *, repeat_safe: bool = True
) -> CallFailure:
    """Classify an ``isError`` answer: Stripe's error body if present, else its text.

    Args:
        reply: An answer with ``is_error`` set.
        tool: The tool that answered.
        repeat_safe: Passed on to the failure.
    """
    body = reply.json()
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        error_type = error.get("type")
        code = error.get("code")
        message = str(error.get("message") or error_type or "Stripe error")
        kind: Literal["server", "rejected"] = (
            "server" if error_type in _TRANSIENT_STRIPE_TYPES or error_type is None else "rejected"
        )
        return CallFailure(
            kind,
            f"{error_type}: {message}",
            tool=tool,
            stripe_code=code if isinstance(code, str) else None,
            stripe_type=error_type if isinstance(error_type, str) else None,
            repeat_safe=repeat_safe,
        )
    # No Stripe body: the server itself failed, and saying more would be guessing.
    return CallFailure(
        "server", reply.text[:200] or "error without details", tool=tool, repeat_safe=repeat_safe
    )


def require_str(body: Mapping[str, Any], key: str, what: str, *, repeat_safe: bool = True) -> str:
    """``body[key]`` when it is a non-empty string.

    Raises:
        CallFailure: ``malformed`` when the field is missing or not a string.
    """
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise CallFailure("malformed", f"{what} answered without {key!r}", repeat_safe=repeat_safe)
    return value
