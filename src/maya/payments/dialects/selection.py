"""Choosing a dialect from a server's ``tools/list`` and the tools' input schemas."""

from __future__ import annotations

from collections.abc import Iterable

from maya.payments._session import ToolInfo
from maya.payments.dialects.base import Dialect
from maya.payments.dialects.generic import GenericDialect
from maya.payments.dialects.hosted import HostedDialect
from maya.payments.dialects.named import NamedDialect

__all__ = ["DIALECTS", "choose_dialect"]

DIALECTS: tuple[type[Dialect], ...] = (HostedDialect, GenericDialect, NamedDialect)
"""Known dialects, most specific first: the hosted server also lists the generic tools."""


def choose_dialect(tools: Iterable[ToolInfo | str]) -> Dialect | None:
    """The dialect the listed tools speak, or None if none applies.

    Args:
        tools: Tools from ``tools/list`` (names alone are accepted, without schemas).
    """
    infos = {t.name: t for t in (t if isinstance(t, ToolInfo) else ToolInfo(t, {}) for t in tools)}
    for dialect in DIALECTS:
        if dialect.matches(infos.keys(), infos):
            return dialect(infos)
    return None
