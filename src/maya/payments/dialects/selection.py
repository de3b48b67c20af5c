"""Choosing a dialect from a server's ``tools/list``."""

from __future__ import annotations

from collections.abc import Collection

from maya.payments.dialects.base import Dialect
from maya.payments.dialects.generic import GenericDialect
from maya.payments.dialects.named import NamedDialect

__all__ = ["DIALECTS", "choose_dialect"]

DIALECTS: tuple[type[Dialect], ...] = (GenericDialect, NamedDialect)
"""Known dialects, most capable first: a server offering both gets the generic one."""


def choose_dialect(tools: Collection[str]) -> Dialect | None:
    """The most capable dialect the listed tools support, or None if none applies.

    Args:
        tools: Tool names from ``tools/list``.
    """
    for dialect in DIALECTS:
        if dialect.matches(tools):
            return dialect()
    return None
