"""Stripe's MCP dialects, each in its own module."""

from maya.payments.dialects.base import (
    Dialect,
    DialectUnsupportedError,
    LinkCreated,
    LinkProgress,
    LinkRequest,
    StatusReading,
    ToolCaller,
)
from maya.payments.dialects.generic import GenericDialect
from maya.payments.dialects.hosted import AccountContext, HostedDialect
from maya.payments.dialects.named import NamedDialect
from maya.payments.dialects.selection import DIALECTS, choose_dialect

__all__ = [
    "DIALECTS",
    "AccountContext",
    "Dialect",
    "DialectUnsupportedError",
    "GenericDialect",
    "HostedDialect",
    "LinkCreated",
    "LinkProgress",
    "LinkRequest",
    "NamedDialect",
    "StatusReading",
    "ToolCaller",
    "choose_dialect",
]
