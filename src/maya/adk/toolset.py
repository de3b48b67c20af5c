"""``MayaToolset``: Maya's tools for a Google ADK ``LlmAgent``, dispatched by our ``Toolset``.

Same declarations and ``Toolset.call`` as every surface; the tab is keyed by the ADK
session and mirrored read-only into its state under ``maya:tab``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from google.adk.agents.readonly_context import ReadonlyContext
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.base_toolset import BaseToolset, ToolPredicate
from google.adk.tools.tool_context import ToolContext
from google.genai import types

from maya.adk.gateway import LazyStripeGateway
from maya.state.models import TabState
from maya.tools import Toolset
from maya.tools.views import bill_view

__all__ = [
    "CONFIRMATION_REJECTED",
    "CONFIRMATION_REQUIRED",
    "LONG_RUNNING_TOOLS",
    "TAB_STATE_KEY",
    "MayaTool",
    "MayaToolset",
    "tab_id",
    "tab_snapshot",
]

TAB_STATE_KEY = "maya:tab"
"""The ADK session-state key holding the read-only snapshot of the tab."""

LONG_RUNNING_TOOLS = frozenset({"create_stripe_payment"})
"""Tools whose outcome (the money) arrives after they return."""

CONFIRMATION_REQUIRED = {"error": "This tool call requires confirmation, please approve or reject."}
"""What the tool answers while ADK asks the user to confirm (ADK's own wording)."""

CONFIRMATION_REJECTED = {"error": "This tool call is rejected."}
"""What the tool answers when the user rejected the call (ADK's own wording)."""

_PAYMENT_TOOL = "create_stripe_payment"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def tab_id(app_name: str, user_id: str, session_id: str) -> str:
    """Our tab's id for an ADK session: ``adk-{app and user digest}-{session id}``.

    Two users of one app may pick the same session id; the digest keeps their tabs apart.
    A session id our store cannot take as it is (too long, other characters) is digested too.
    """
    owner = _digest(app_name, user_id)
    if _PLAIN_ID.match(session_id):
        return f"adk-{owner}-{session_id}"
    return f"adk-{owner}-{_digest(session_id)}"


def tab_snapshot(state: TabState) -> dict[str, Any]:
    """The tab as ``get_bill`` shows it, plus its session id and version (JSON-safe)."""
    return {"session_id": state.session_id, "version": state.version, **bill_view(state)}


class MayaTool(BaseTool):
    """One of Maya's tools as an ADK tool."""

    def __init__(
        self,
        toolset: Toolset,
        declaration: types.FunctionDeclaration,
        *,
        require_confirmation: bool = False,
    ) -> None:
        """Wrap one declaration of ``toolset``.

        Args:
            toolset: runs the call.
            declaration: the tool's Gemini declaration, offered to the model unchanged.
            require_confirmation: ask ADK for the user's confirmation before running.
        """
        name = declaration.name or ""
        super().__init__(
            name=name,
            description=declaration.description or "",
            is_long_running=name in LONG_RUNNING_TOOLS,
        )
        self._toolset = toolset
        self._declaration = declaration
        # Dispatch by our own name: ADK renames copies of the tool for a name prefix.
        self._tool_name = name
        self.require_confirmation = require_confirmation

    def _get_declaration(self) -> types.FunctionDeclaration:
        # A copy: ADK renames the declaration in place when a toolset has a name prefix.
        return self._declaration.model_copy(deep=True)

    async def check_require_confirmation(
        self, args: dict[str, Any], tool_context: ToolContext
    ) -> bool:
        """True when this tool was built to wait for the user's confirmation."""
        return self.require_confirmation

    async def run_async(self, *, args: dict[str, Any], tool_context: ToolContext) -> Any:
        """Run the call on the tab of the ADK session; refresh the snapshot if it changed."""
        if await self.check_require_confirmation(args, tool_context):
            confirmation = tool_context.tool_confirmation
            if confirmation is None:
                tool_context.request_confirmation(
                    hint=f"Approve {self._tool_name}: a payment link for the whole tab plus tip."
                )
                tool_context.actions.skip_summarization = True
                return dict(CONFIRMATION_REQUIRED)
            if not confirmation.confirmed:
                return dict(CONFIRMATION_REJECTED)
        session = tool_context.session
        session_id = tab_id(session.app_name, session.user_id, session.id)
        result = await self._toolset.call(self._tool_name, args, session_id)
        await _refresh_snapshot(self._toolset, session_id, tool_context)
        return result


async def _refresh_snapshot(toolset: Toolset, session_id: str, tool_context: ToolContext) -> None:
    try:
        state = await toolset.context.manager.get(session_id)
    except Exception:  # the store failed: the call itself already said so
        return
    snapshot = tab_snapshot(state)
    previous = tool_context.state.get(TAB_STATE_KEY)
    if not isinstance(previous, Mapping) or previous.get("version") != snapshot["version"]:
        tool_context.state[TAB_STATE_KEY] = snapshot


class MayaToolset(BaseToolset):
    """Maya's tools for an ADK agent: ``LlmAgent(tools=[MayaToolset(toolset)])``."""

    def __init__(
        self,
        toolset: Toolset,
        *,
        confirm_payment: bool = False,
        tool_filter: ToolPredicate | list[str] | None = None,
        tool_name_prefix: str | None = None,
    ) -> None:
        """Offer ``toolset``'s tools.

        Args:
            toolset: Maya's toolset (tab manager, payment gateway, messages).
            confirm_payment: require ADK's tool confirmation before a payment link is made.
            tool_filter: ADK's filter: tool names, or a predicate.
            tool_name_prefix: ADK's prefix for the tool names.
        """
        super().__init__(tool_filter=tool_filter, tool_name_prefix=tool_name_prefix)
        self.toolset = toolset
        self._tools: Sequence[MayaTool] = tuple(
            MayaTool(
                toolset,
                declaration,
                require_confirmation=confirm_payment and declaration.name == _PAYMENT_TOOL,
            )
            for declaration in toolset.declarations
        )

    async def get_tools(self, readonly_context: ReadonlyContext | None = None) -> list[BaseTool]:
        """The tools that pass the filter, in declaration order."""
        return [t for t in self._tools if self._is_tool_selected(t, readonly_context)]

    async def close(self) -> None:
        """Close the payment gateway if this toolset's app owns it (a ``LazyStripeGateway``).

        Any other gateway was opened by the caller, who closes it.
        """
        payments = self.toolset.context.payments
        if isinstance(payments, LazyStripeGateway):
            await payments.aclose()
