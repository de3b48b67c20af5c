"""What the sandbox was asked: MCP requests counted per tool and per Stripe operation.

Tests ask the server itself how many calls reached it, instead of reading the client's log.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["LIST_TOOLS", "CallCounts"]

LIST_TOOLS = "tools/list"
"""The name under which ``tools/list`` requests are counted (the client's availability probe)."""


class CallCounts:
    """Requests that reached a sandbox server (or several sharing one ``CallCounts``)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str | None]] = Counter()

    def record(self, tool: str, operation: str | None = None) -> None:
        """Count one request for ``tool`` (and, for the operation tools, ``operation``)."""
        self._counts[(tool, operation)] += 1

    def count(self, *, tool: str | None = None, op: str | None = None) -> int:
        """Requests so far, all of them or only those for one tool and/or operation.

        ``tools/list`` requests count only when asked for by ``tool=LIST_TOOLS``, so the
        total is the tool calls made.
        """
        return sum(
            n
            for (name, operation), n in self._counts.items()
            if ((tool is None and name != LIST_TOOLS) or name == tool)
            and (op is None or operation == op)
        )
