"""The two shapes every tool response takes, and which error channel each code is on.

A tool answers ``{"status": "ok", "result": {...}}`` or
``{"status": "error", "error": CODE, "message": "...", "retryable": bool, ...details}``.
``retryable`` tells the model whether calling again (with corrected arguments, or
simply again) can succeed; otherwise it must tell the user (a terminal error) or, for
``INTERNAL_ERROR``, apologise (a crash).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeAlias

from maya.codes import ErrorCode

__all__ = [
    "RESERVED_KEYS",
    "ErrorChannel",
    "ToolError",
    "ToolResult",
    "channel_of",
    "error_result",
    "is_ok",
    "ok_result",
]

ToolResult: TypeAlias = dict[str, Any]
"""A tool's JSON-serialisable response: the ``ok`` or ``error`` shape described above."""

RESERVED_KEYS: frozenset[str] = frozenset({"status", "error", "message", "retryable", "result"})
"""Keys of the error shape that details may never overwrite."""


class ErrorChannel(StrEnum):
    """Who has to act on an error."""

    RETRY = "retry"
    """The model can fix its call (arguments, item name, a fresh link) and try again."""
    TERMINAL = "terminal"
    """The model must tell the user: the money or the payment provider said no."""
    CRASH = "crash"
    """A bug on our side; nothing the model or the user did."""


_RETRYABLE: frozenset[ErrorCode] = frozenset(
    {
        ErrorCode.UNKNOWN_TOOL,
        ErrorCode.INVALID_ARGUMENTS,
        ErrorCode.UNKNOWN_ITEM,
        ErrorCode.INVALID_QUANTITY,
        ErrorCode.INVALID_MODIFIER,
        ErrorCode.INVALID_TIP_PERCENTAGE,
        ErrorCode.PAYMENT_NOT_FOUND,
        ErrorCode.PAYMENT_SUPERSEDED,
        ErrorCode.CONCURRENT_UPDATE,
        ErrorCode.STORE_BUSY,
    }
)


def channel_of(code: ErrorCode) -> ErrorChannel:
    """The channel an error code travels on (see ``ErrorChannel``)."""
    if code is ErrorCode.INTERNAL_ERROR:
        return ErrorChannel.CRASH
    return ErrorChannel.RETRY if code in _RETRYABLE else ErrorChannel.TERMINAL


def ok_result(result: Mapping[str, Any]) -> ToolResult:
    """``{"status": "ok", "result": result}``."""
    return {"status": "ok", "result": dict(result)}


def error_result(
    code: ErrorCode, message: str, details: Mapping[str, Any] | None = None
) -> ToolResult:
    """The error shape for ``code``; details never overwrite the shape's own keys."""
    response: ToolResult = {
        "status": "error",
        "error": code.value,
        "message": message,
        "retryable": channel_of(code) is ErrorChannel.RETRY,
    }
    for key, value in (details or {}).items():
        if key not in RESERVED_KEYS:
            response[key] = value
    return response


def is_ok(result: Mapping[str, Any]) -> bool:
    """True for an ``ok`` response."""
    return result.get("status") == "ok"


class ToolError(Exception):
    """A refusal raised by a tool handler; the dispatcher turns it into an error response.

    Attributes:
        code: why the tool refused.
        message: a plain sentence, used when ``prompts/messages.yaml`` has no fitting one.
        details: JSON-serialisable facts for the response and the message template.
    """

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details
