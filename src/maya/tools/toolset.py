"""``Toolset``: everything an agent builder needs to give Gemini Maya's tools."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from google.genai import types

from maya.messages import MessageBook, load_messages
from maya.state.manager import TabManager
from maya.tools.catalog import DEFAULT_TOOLS, ToolSpec
from maya.tools.context import ToolContext
from maya.tools.declarations import build_declarations, declarations_size
from maya.tools.dispatcher import Dispatcher, ToolObserver
from maya.tools.gateway import PaymentGateway
from maya.tools.results import ToolResult

__all__ = ["LOG_BODIES_ENV", "Toolset"]

LOG_BODIES_ENV = "MAYA_LOG_TOOL_BODIES"
"""Set to ``1`` to log (redacted) tool arguments and results."""


class Toolset:
    """Maya's tools bound to one tab manager and one payment gateway.

    Example::

        toolset = Toolset(manager=TabManager(MemoryTabStore()), payments=client)
        config = types.GenerateContentConfig(tools=[toolset.genai_tool()])
        parts = await toolset.dispatch(response.function_calls, session_id)
    """

    def __init__(
        self,
        *,
        manager: TabManager,
        payments: PaymentGateway | None,
        messages: MessageBook | None = None,
        messages_path: Path | None = None,
        log_bodies: bool | None = None,
        observer: ToolObserver | None = None,
        tools: Sequence[ToolSpec[Any]] = DEFAULT_TOOLS,
        timer: Callable[[], float] | None = None,
    ) -> None:
        """Build the toolset and check every tool's declaration.

        Args:
            manager: the tab's atomic operations.
            payments: the payment gateway (e.g. ``maya.payments.StripeMCPClient``); None
                when card payment is unavailable (the payment tools then say so).
            messages: Maya's words; default: loaded from ``messages_path``.
            messages_path: a messages YAML file; default: the packaged one.
            log_bodies: log redacted arguments and results; default: the
                ``MAYA_LOG_TOOL_BODIES`` environment variable is ``1``.
            observer: called with a ``ToolCallEvent`` after every call (for traces).
            tools: the tools to offer; default: all of Maya's.
            timer: monotonic seconds for call timings (tests pass a fake).

        Raises:
            ToolSchemaError: listing every problem with the tools' declarations.
        """
        self.declarations: tuple[types.FunctionDeclaration, ...] = build_declarations(tools)
        if log_bodies is None:
            log_bodies = os.environ.get(LOG_BODIES_ENV, "") == "1"
        self.context = ToolContext(
            manager=manager,
            payments=payments,
            messages=messages if messages is not None else load_messages(messages_path),
        )
        options: dict[str, Any] = {} if timer is None else {"timer": timer}
        self._dispatcher = Dispatcher(
            tools, self.context, log_bodies=log_bodies, observer=observer, **options
        )

    @property
    def tool_names(self) -> tuple[str, ...]:
        """Every tool's name, in declaration order."""
        return self._dispatcher.tool_names

    @property
    def declarations_chars(self) -> int:
        """How many characters the declarations cost on every model turn."""
        return declarations_size(self.declarations)

    def genai_tool(self) -> types.Tool:
        """One ``types.Tool`` holding every function declaration."""
        return types.Tool(function_declarations=list(self.declarations))

    async def call(self, name: str, args: Mapping[str, Any] | None, session_id: str) -> ToolResult:
        """Run one tool; returns the ``ok`` or ``error`` response dict. Never raises."""
        return await self._dispatcher.call(name, args, session_id)

    async def dispatch(
        self, function_calls: Sequence[types.FunctionCall], session_id: str
    ) -> list[types.Part]:
        """Run the model's function calls in order; one ``FunctionResponse`` part each."""
        return await self._dispatcher.dispatch(function_calls, session_id)
