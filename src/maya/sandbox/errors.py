"""Stripe-shaped errors raised by the sandbox's operations.

The generic dialect returns them as ``{"error": {...}}`` with ``isError``, as Stripe's remote
server relays an API error; the named dialect flattens them into its plain-text failure.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["StripeError", "StripeErrorType"]

StripeErrorType = Literal["invalid_request_error", "api_error", "card_error", "idempotency_error"]
"""The subset of Stripe's ``error.type`` values the sandbox produces."""


class StripeError(Exception):
    """A failed Stripe request, carrying the fields of Stripe's error object.

    Args:
        message: Human-readable text, worded like Stripe's.
        type: Stripe's error category.
        param: The offending parameter, Stripe-style (``line_items[0][price]``).
        code: A machine-readable code such as ``resource_missing``.
    """

    def __init__(
        self,
        message: str,
        *,
        type: StripeErrorType = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type: StripeErrorType = type
        self.param = param
        self.code = code

    def to_json(self) -> dict[str, Any]:
        """The error as Stripe's API body: ``{"error": {"type", "message", ...}}``."""
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            body["param"] = self.param
        if self.code is not None:
            body["code"] = self.code
        return {"error": body}
