"""The exceptions ``maya.payments`` raises; each names what a caller needs and no secret.

Every error has a ``code`` from ``maya.codes.ErrorCode`` so the tools layer can turn it
into Maya's words without inspecting messages. Messages pass through ``redact``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from maya.codes import ErrorCode
from maya.errors import MayaError
from maya.redact import redact

__all__ = [
    "LiveModeRefusedError",
    "McpConfigError",
    "PaymentLinkCreationError",
    "PaymentNotFoundError",
    "PaymentRequestInvalidError",
    "PaymentStatusTimeoutError",
    "PaymentStatusUnsupportedError",
    "StripeAccountError",
    "StripeMCPError",
    "StripeSchemaError",
    "StripeUnavailableError",
    "UnsafePaymentLinkError",
]


class StripeMCPError(MayaError):
    """Base class for every failure talking to Stripe over MCP.

    Args:
        message: What went wrong, for a person; secrets are masked.
        server: The MCP server's name in ``mcp.json`` (``stripe`` by default).
        attempts: How many times the operation was tried.
        elapsed: Seconds spent before giving up.
        last_error: ``ErrorClass: summary`` of the last underlying failure, redacted.
        link_maybe_created: For a link that was asked for: True when a write may have
            made it (look it up before writing again), False when none can have, None
            when not known.

    Attributes:
        code: The ``ErrorCode`` callers map to a message (each subclass has its own).
    """

    code: ErrorCode = ErrorCode.STRIPE_UNAVAILABLE
    # The text may carry the provider's internals; the model hears only the code.
    public_text = False

    def __init__(
        self,
        message: str,
        *,
        server: str | None = None,
        attempts: int = 0,
        elapsed: float = 0.0,
        last_error: str | None = None,
        link_maybe_created: bool | None = None,
    ) -> None:
        super().__init__(type(self).code, redact(message))
        self.link_maybe_created = link_maybe_created
        self.server = server
        self.attempts = attempts
        self.elapsed = elapsed
        self.last_error = redact(last_error) if last_error is not None else None

    def __str__(self) -> str:
        return self._render()

    def _render(self) -> str:
        parts = [self.message]
        details = []
        if self.server is not None:
            details.append(f"server={self.server}")
        if self.attempts:
            details.append(f"attempts={self.attempts}")
        if self.elapsed:
            details.append(f"elapsed={self.elapsed:.2f}s")
        if self.last_error:
            details.append(f"last_error={self.last_error}")
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)


class StripeUnavailableError(StripeMCPError):
    """Stripe's MCP server could not be reached or offers no tools Maya can use."""

    code = ErrorCode.STRIPE_UNAVAILABLE


class PaymentLinkCreationError(StripeMCPError):
    """A payment link could not be made: Stripe refused, or retries ran out in live mode."""

    code = ErrorCode.PAYMENT_LINK_FAILED


class UnsafePaymentLinkError(PaymentLinkCreationError):
    """The server answered with a link URL that is not https on a payment link host.

    The link is deactivated where the dialect can; its URL is never shown to anyone.
    """


class StripeSchemaError(PaymentLinkCreationError):
    """Stripe's advertised tool schema no longer fits the call Maya makes; nothing was sent.

    Args:
        message: What went wrong.
        tool: The MCP tool whose schema refused the call.
        **details: As for ``StripeMCPError``; ``last_error`` names the field.
    """

    def __init__(self, message: str, *, tool: str | None = None, **details: Any) -> None:
        self.tool = tool
        super().__init__(f"{message} (tool {tool})" if tool else message, **details)


class StripeAccountError(StripeMCPError):
    """The hosted server's accounts do not say which one to act on.

    None matches the key's mode, or several do and ``MAYA_STRIPE_ACCOUNT`` names none
    of them; ``last_error`` lists the candidates.
    """

    code = ErrorCode.STRIPE_UNAVAILABLE


class PaymentStatusTimeoutError(StripeMCPError):
    """No poll of a payment's status got an answer before the deadline."""

    code = ErrorCode.PAYMENT_STATUS_TIMEOUT


class PaymentStatusUnsupportedError(StripeMCPError):
    """The server's dialect has no way to read a payment's status (Stripe's named tools)."""

    code = ErrorCode.PAYMENT_STATUS_UNSUPPORTED


class PaymentNotFoundError(StripeMCPError):
    """Stripe does not know the payment link asked about."""

    code = ErrorCode.PAYMENT_NOT_FOUND


class LiveModeRefusedError(StripeMCPError):
    """A live-mode key is configured but live mode was not enabled (``MAYA_ALLOW_LIVE=1``)."""

    code = ErrorCode.LIVE_MODE_REFUSED


class PaymentRequestInvalidError(StripeMCPError, ValueError):
    """An argument to a payments call is invalid; never retried.

    Args:
        message: What is wrong with the argument.
        field: The argument's name, e.g. ``amount_cents``.
    """

    code = ErrorCode.INVALID_ARGUMENTS

    def __init__(self, message: str, *, field: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class McpConfigError(StripeMCPError):
    """``mcp.json`` cannot be used; the message names the file and the field.

    Args:
        message: What is wrong.
        path: The configuration file, when there is one.
        field: Dotted path of the offending field, e.g. ``mcpServers.stripe.args.1``.
    """

    code = ErrorCode.STRIPE_UNAVAILABLE

    def __init__(self, message: str, *, path: Path | None = None, field: str | None = None) -> None:
        self.path = path
        self.field = field
        where = ", ".join(
            part
            for part in (
                str(path) if path is not None else "",
                f"field {field}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)
