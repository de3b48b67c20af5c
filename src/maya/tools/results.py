"""The two shapes every tool response takes, and the error a handler raises to refuse.

``{"status": "ok", "result": {...}}`` or ``{"status": "error", "error": CODE, "message":
..., "retryable": bool, ...details}``; ``retryable`` says whether calling again can help.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

from maya.codes import ErrorCode
from maya.errors import MayaError

__all__ = [
    "RESERVED_KEYS",
    "ToolError",
    "ToolResult",
    "error_result",
    "is_ok",
    "ok_result",
]

ToolResult: TypeAlias = dict[str, Any]
"""A tool's JSON-serialisable response: the ``ok`` or ``error`` shape described above."""

RESERVED_KEYS: frozenset[str] = frozenset({"status", "error", "message", "retryable", "result"})
"""Keys of the error shape that details may never overwrite."""


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
        "retryable": code.retryable,
    }
    for key, value in (details or {}).items():
        if key not in RESERVED_KEYS:
            response[key] = value
    return response


def is_ok(result: Mapping[str, Any]) -> bool:
    """True for an ``ok`` response."""
    return result.get("status") == "ok"


class ToolError(MayaError):
    """A refusal raised by a tool handler; the dispatcher turns it into an error response.

    Attributes:
        code: why the tool refused.
        message: a plain sentence, used when the messages have no fitting one.
        details: JSON-serialisable facts for the response and the message template.
    """
