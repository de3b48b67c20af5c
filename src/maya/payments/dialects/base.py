"""What a Stripe MCP dialect does, and the plain data it trades in.

A dialect turns "make a link", "deactivate it" and "was it paid?" into calls of one of
Stripe's MCP tool sets (through a ``ToolCaller``) and reads the ``ToolReply`` answers.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from maya.payments._failures import CallFailure, FailureKind
from maya.payments._session import ToolInfo, ToolReply
from maya.payments.results import CheckOutcome

__all__ = [
    "Dialect",
    "DialectUnsupportedError",
    "LinkCreated",
    "LinkProgress",
    "LinkRequest",
    "StatusReading",
    "ToolCaller",
    "failure_from_error_reply",
    "failure_from_text",
    "is_failure_sentence",
    "require_str",
]

# Stripe error types worth retrying: Stripe's side failed, not the request.
_TRANSIENT_STRIPE_TYPES = frozenset({"api_error", "rate_limit_error"})
# Stripe error codes worth retrying whatever the type: a 429 is ``invalid_request_error``
# with code ``rate_limit`` (older docs: type ``rate_limit_error``).
_TRANSIENT_STRIPE_CODES = frozenset({"rate_limit", "lock_timeout"})
# Today's hosted server flattens Stripe's error into text.
_HOSTED_API_ERROR = re.compile(
    r"^\s*Stripe API error:\s*(?P<message>.*)", re.DOTALL | re.IGNORECASE
)
_NOT_AVAILABLE = re.compile(r"Operation\s+'(?P<op>[^']*)'\s+is not available", re.IGNORECASE)
_RATE_LIMIT = re.compile(r"rate[ _-]?limit|too many requests", re.IGNORECASE)
_STRIPE_SIDE = re.compile(
    r"error occurred with our connection to Stripe|api_error|internal server error|"
    r"\b50[0-9]\b|bad gateway|service unavailable|try again later",
    re.IGNORECASE,
)
_MISSING = re.compile(r"\bNo such (?P<what>[a-z_ ]+):", re.IGNORECASE)
_CONTEXT = re.compile(
    r"No account found for the provided stripe_context|Retry with livemode|stripe_context",
    re.IGNORECASE,
)
_FAILED_TO = re.compile(r"^\s*failed to\b", re.IGNORECASE)


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
            way that leaves open whether it was made (or the caller found its durable
            "write sent" mark): look before writing.
        before_write: The caller's hook, awaited before each link write with the
            seconds that write may stay in flight (``time_left()``).
        time_left: Seconds left of the operation's budget.
        in_flight: A link write was sent and neither answered nor failed (cancelled).
    """

    product_id: str | None = None
    price_id: str | None = None
    link_maybe_created: bool = False
    before_write: Callable[[float], Awaitable[None]] | None = None
    time_left: Callable[[], float] = float
    in_flight: bool = False

    @asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Wraps a dialect's link write: the caller's hook first, then the write.

        ``in_flight`` stays True if the write is cancelled before it answered (the
        operation's budget ran out mid-write): it may have reached Stripe.

        Raises:
            Exception: whatever the caller's hook raised; the write is not sent.
        """
        if self.before_write is not None:
            await self.before_write(max(self.time_left(), 0.0))
        self.in_flight = True
        try:
            yield
        except CallFailure:
            self.in_flight = False  # the failure itself says whether it may have acted
            raise
        self.in_flight = False


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
        status: ``pending``, ``succeeded`` or ``failed`` (a reading is never ``timeout``
            or ``simulated``).
        amount_paid_cents: What was paid, when it succeeded.
        failure_reason: Stripe's decline code, when it failed.
        paid_count: How many Checkout Sessions of the link were paid (more than one:
            the customer paid the same link again).
        total_paid_cents: What all of them paid together, when known.
        currency: The paid session's currency (lower case), when it said.
    """

    status: CheckOutcome
    amount_paid_cents: int | None = None
    failure_reason: str | None = None
    paid_count: int = 0
    total_paid_cents: int | None = None
    currency: str | None = None


class DialectUnsupportedError(Exception):
    """The dialect has no tool for this operation."""


class Dialect(ABC):
    """Base for Stripe's MCP dialects; subclasses implement what their tools allow.

    Args:
        tools: The server's tools from ``tools/list``, with their input schemas.

    Attributes:
        name: ``hosted``, ``generic`` or ``named``.
        required_tools: Tool names that must all be listed for the dialect to apply.
        supports_status: Whether ``read_status`` works.
        supports_deactivate: Whether ``deactivate`` works.
        supports_lookup: Whether a link can be found again by its idempotency key.
    """

    name: ClassVar[str]
    required_tools: ClassVar[frozenset[str]]
    supports_status: ClassVar[bool] = False
    supports_deactivate: ClassVar[bool] = False
    supports_lookup: ClassVar[bool] = False

    def __init__(self, tools: Mapping[str, ToolInfo] | None = None) -> None:
        self.tools: Mapping[str, ToolInfo] = dict(tools or {})

    @classmethod
    def matches(cls, tools: Collection[str], schemas: Mapping[str, ToolInfo]) -> bool:
        """Whether a server listing ``tools`` (with these schemas) speaks this dialect."""
        return cls.required_tools <= set(tools)

    async def prepare(self, call: ToolCaller, *, livemode: bool, account: str | None) -> None:
        """Learn what every call needs before the first one (nothing, by default).

        Args:
            call: Calls a tool.
            livemode: Whether the configured key is live.
            account: The account the user chose (``MAYA_STRIPE_ACCOUNT``), if any.

        Raises:
            CallFailure: the bootstrap call failed or its answer is unusable.
        """
        del call, livemode, account  # the older dialects need nothing first

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

    Three shapes are understood: Stripe's JSON body ``{"error": {type, code, message}}``
    (the older generic server), the hosted server's plain text (``Stripe API error:
    ...``, ``Operation '...' is not available...``, wrong ``stripe_context``), and the
    named server's ``"Failed to ..."`` sentence. Rate limits and Stripe-side failures
    are ``server`` (retried); anything Stripe refused as invalid is ``rejected``.

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
        transient = (
            error_type in _TRANSIENT_STRIPE_TYPES
            or error_type is None
            or code in _TRANSIENT_STRIPE_CODES
            or bool(_RATE_LIMIT.search(message))
        )
        return CallFailure(
            "server" if transient else "rejected",
            f"{error_type}: {message}",
            tool=tool,
            stripe_code=code if isinstance(code, str) else None,
            stripe_type=error_type if isinstance(error_type, str) else None,
            repeat_safe=repeat_safe,
        )
    text = body if isinstance(body, str) else reply.text
    return failure_from_text(text, tool, repeat_safe=repeat_safe)


def failure_from_text(text: str, tool: str, *, repeat_safe: bool = True) -> CallFailure:
    """Classify a failure that arrived as plain text (hosted and named servers).

    Args:
        text: The answer's text.
        tool: The tool that answered.
        repeat_safe: Passed on to the failure.
    """
    text = text.strip()
    summary = text[:300] or "error without details"

    def failure(kind: FailureKind, **stripe: str) -> CallFailure:
        return CallFailure(kind, summary, tool=tool, repeat_safe=repeat_safe, **stripe)

    unavailable = _NOT_AVAILABLE.search(text)
    if unavailable:
        summary = f"operation {unavailable.group('op')} is not available on this server"
        return failure("rejected", stripe_code="operation_unavailable")
    if _RATE_LIMIT.search(text):
        return failure("server", stripe_code="rate_limit")
    api = _HOSTED_API_ERROR.match(text)
    if api:
        message = api.group("message")
        if _MISSING.search(message):
            return failure("rejected", stripe_code="resource_missing")
        if "idempotent requests" in message.lower():
            return failure("rejected", stripe_type="idempotency_error")
        if _STRIPE_SIDE.search(message):
            return failure("server", stripe_type="api_error")
        return failure("rejected", stripe_type="invalid_request_error")
    if _CONTEXT.search(text):
        return failure("rejected", stripe_code="context_invalid")
    # No Stripe body (or the named server's "Failed to ..."): the server failed, and
    # saying more would be guessing.
    return failure("server")


def is_failure_sentence(text: str) -> bool:
    """Whether ``text`` is the named server's ``Failed to ...`` (quoted or not)."""
    return bool(_FAILED_TO.match(text.strip().strip('"')))


def require_str(body: Mapping[str, Any], key: str, what: str, *, repeat_safe: bool = True) -> str:
    """``body[key]`` when it is a non-empty string.

    Raises:
        CallFailure: ``malformed`` when the field is missing or not a string.
    """
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise CallFailure("malformed", f"{what} answered without {key!r}", repeat_safe=repeat_safe)
    return value
