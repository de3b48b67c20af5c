"""How one MCP call can fail, classified once so retry and fallback decisions stay simple."""

from __future__ import annotations

from typing import Literal

from maya.redact import redact

__all__ = ["CallFailure", "FailureKind"]

FailureKind = Literal["connect", "lost", "timeout", "server", "rejected", "malformed", "schema"]
"""``connect``: no session could be opened (nothing was sent). ``lost``: the session broke
during the call. ``timeout``: no answer in time. ``server``: the server or Stripe failed
(``api_error``, the named dialect's "Failed to ..."). ``rejected``: Stripe refused the
request as invalid. ``malformed``: an answer that cannot be understood. ``schema``: the
call does not fit the tool's advertised ``inputSchema`` and was not sent."""

_TRANSIENT: frozenset[FailureKind] = frozenset(
    {"connect", "lost", "timeout", "server", "malformed"}
)
# The server may have done the work before the answer went missing or came back garbled.
_AMBIGUOUS: frozenset[FailureKind] = frozenset({"lost", "timeout", "malformed"})
# A write that failed in one of these ways after it was sent may still have been carried
# out (a 5xx or ``api_error`` can come after Stripe acted): look before writing again.
_MAYBE_ACTED: frozenset[FailureKind] = frozenset({"lost", "timeout", "malformed", "server"})


class CallFailure(Exception):
    """One failed MCP call, internal to ``maya.payments``.

    Args:
        kind: What failed (see ``FailureKind``).
        summary: A short description; secrets are masked.
        tool: The MCP tool called, if any.
        stripe_code: Stripe's ``error.code`` (``resource_missing``) when it gave one.
        stripe_type: Stripe's ``error.type`` (``idempotency_error``) when it gave one.
        repeat_safe: False when repeating the call after an ambiguous failure could make
            a second object (the named dialect cannot dedupe payment links).
    """

    def __init__(
        self,
        kind: FailureKind,
        summary: str,
        *,
        tool: str | None = None,
        stripe_code: str | None = None,
        stripe_type: str | None = None,
        repeat_safe: bool = True,
    ) -> None:
        self.kind: FailureKind = kind
        self.summary = redact(summary)
        self.tool = tool
        self.stripe_code = stripe_code
        self.stripe_type = stripe_type
        self.repeat_safe = repeat_safe
        super().__init__(f"{kind}: {self.summary}")

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed."""
        return self.kind in _TRANSIENT

    @property
    def ambiguous(self) -> bool:
        """Whether the server may have acted even though the call failed."""
        return self.kind in _AMBIGUOUS

    @property
    def maybe_acted(self) -> bool:
        """Whether a write that failed this way may have been carried out all the same.

        A rate limit is the one server failure known to have done nothing: Stripe
        refuses it before looking at the request.
        """
        return self.kind in _MAYBE_ACTED and self.stripe_code != "rate_limit"

    @property
    def retryable(self) -> bool:
        """Transient, and repeating cannot duplicate anything."""
        return self.transient and (self.repeat_safe or not self.ambiguous)

    def describe(self) -> str:
        """``CallFailure[kind]: summary``, for errors and log lines."""
        return f"CallFailure[{self.kind}]: {self.summary}"

    def with_repeat_safe(self, repeat_safe: bool) -> CallFailure:
        """The same failure with ``repeat_safe`` replaced."""
        return CallFailure(
            self.kind,
            self.summary,
            tool=self.tool,
            stripe_code=self.stripe_code,
            stripe_type=self.stripe_type,
            repeat_safe=repeat_safe,
        )
