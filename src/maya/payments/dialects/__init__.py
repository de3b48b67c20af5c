"""Stripe's MCP dialects, each in its own module."""

from maya.payments.dialects.base import (
    Dialect,
    DialectUnsupportedError,
    LinkCreated,
    LinkProgress,
    LinkRequest,
    StatusReading,
)
from maya.payments.dialects.selection import choose_dialect

__all__ = [
    "Dialect",
    "DialectUnsupportedError",
    "LinkCreated",
    "LinkProgress",
    "LinkRequest",
    "StatusReading",
    "choose_dialect",
]
