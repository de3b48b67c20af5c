"""The tools as an MCP server: the same declarations, results and errors as for Gemini.

Every call goes to ``Toolset.call``; a tool's ``inputSchema`` is its declaration's and its
``outputSchema`` its result model's (``result_schemas``). Which tab a call runs on is
``TabPolicy``'s: a fixed one, the HTTP session's, a signed handle in ``_meta``, or the process's.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from google.genai import types
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.types import (
    INVALID_PARAMS,
    CallToolResult,
    GetPromptResult,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Tool as MCPTool
from starlette.applications import Starlette

from maya import __version__
from maya.codes import ErrorCode
from maya.mcp_server.protocol import (
    NoCancelledReplies,
    ServedOnly,
    answer_parse_errors,
    answers_before_close,
)
from maya.mcp_server.result_schemas import model_schema, output_schema
from maya.signing import Signer
from maya.state.errors import StateError
from maya.state.manager import validate_session_id
from maya.tools import Toolset
from maya.tools.results import ToolResult, error_result

__all__ = [
    "TAB_HANDLE_PURPOSE",
    "TAB_META_KEY",
    "MayaMCPServer",
    "TabPolicy",
    "build_mcp_server",
    "call_tool_result",
    "mcp_tools",
    "neutral_instructions",
]

TAB_META_KEY = "maya/tab"
"""The request ``_meta`` key a client sets to its tab handle (one the server issued)."""
TAB_HANDLE_PURPOSE = "maya-mcp-tab-handle"
"""What the handles' signing key is derived for (``Signer(secret, purpose=...)``)."""

_SESSION_HEADER = "mcp-session-id"


def neutral_instructions(toolset: Toolset) -> str:
    """What a client is told when the application gives no instructions: the tools, the
    response shapes and that paying takes no amount. Names no business and no persona."""
    catalog = toolset.context.manager.catalog
    names = ", ".join(toolset.tool_names)
    selling = (
        f"Items from {catalog.merchant}'s catalog, priced in {catalog.currency.upper()}. "
        if "order_item" in toolset.tool_names
        else ""
    )
    return (
        f"{selling}Tools: {names}. Every response is {{status: ok, result}} or "
        "{status: error, error, message, retryable}; create_stripe_payment takes no amount "
        "(it charges the stored bill)."
    )


@dataclass(frozen=True, slots=True)
class TabPolicy:
    """How a call finds its tab.

    Tabs a connection gets are namespaced so no kind can name another's: ``mcp-p-...``
    (a process), ``mcp-h-...`` (a digest of a ``_meta`` handle), ``mcp-s-...`` (a digest
    of an MCP session id). A fixed tab is used as named, so ``maya mcp --session ID`` and
    ``maya chat --session ID`` share one tab.

    Attributes:
        fixed: every call uses this tab (``maya mcp --session ID``).
        process_tab: the tab of a connection that is the whole process (stdio), used
            when the request names no other.
        signer: issues and checks tab handles; None: no handle is accepted.
    """

    fixed: str | None = None
    process_tab: str | None = None
    signer: Signer | None = None

    def issue_handle(self) -> str | None:
        """A fresh tab handle for a client (None when this policy issues none)."""
        return None if self.signer is None else self.signer.issue()

    @classmethod
    def for_stdio(cls, fixed: str | None = None) -> TabPolicy:
        """A new, unguessable tab for this process's one client (unless ``fixed``)."""
        return cls(fixed=fixed, process_tab=f"mcp-p-{secrets.token_hex(8)}")

    def tab_for(self, meta: Mapping[str, Any] | None, session_header: str | None) -> str | None:
        """The tab a request runs on, or None when nothing ties it to one.

        Raises:
            StateError: ``INVALID_SESSION_ID`` for a malformed ``_meta`` handle.
        """
        if self.fixed is not None:
            return self.fixed
        handle = (meta or {}).get(TAB_META_KEY)
        if session_header:
            if handle is not None:
                raise StateError(
                    ErrorCode.INVALID_SESSION_ID,
                    f"this MCP session has its own tab: a {TAB_META_KEY} handle cannot switch it",
                )
            # The session id is a bearer value for the connection: keep only a digest.
            return f"mcp-s-{_digest(session_header)}"
        if handle is not None:
            if not isinstance(handle, str):
                raise StateError(ErrorCode.INVALID_SESSION_ID, f"{TAB_META_KEY} must be text")
            if self.signer is None or not self.signer.valid(handle):
                raise StateError(
                    ErrorCode.INVALID_SESSION_ID,
                    f"{TAB_META_KEY} is not a handle this server issued: send the one a "
                    "refused call's _meta gave you",
                )
            # The handle is a credential: the tab id (in stores, traces) is its digest.
            return validate_session_id(f"mcp-h-{_digest(handle)}")
        return self.process_tab


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


def _schema_of(declaration: types.FunctionDeclaration) -> dict[str, Any]:
    schema = declaration.parameters_json_schema
    if isinstance(schema, dict):
        return dict(schema)
    # Tools without arguments send Gemini no schema; MCP needs an object schema.
    return {"type": "object", "properties": {}}


def mcp_tools(toolset: Toolset) -> list[MCPTool]:
    """The toolset's declarations as MCP tools, in the same order, with output schemas."""
    tools: list[MCPTool] = []
    for declaration, spec in zip(toolset.declarations, toolset.specs, strict=True):
        name = declaration.name or ""
        result_schema = None if spec.result is None else model_schema(spec.result)
        tools.append(
            MCPTool(
                name=name,
                description=declaration.description or "",
                input_schema=_schema_of(declaration),
                output_schema=None if result_schema is None else output_schema(result_schema),
                annotations=ToolAnnotations(
                    read_only_hint=spec.read_only,
                    destructive_hint=False,
                    open_world_hint=spec.open_world,
                ),
            )
        )
    return tools


def call_tool_result(response: ToolResult) -> CallToolResult:
    """A tool's response dict as an MCP result: structured, as JSON text, ``isError`` set."""
    text = json.dumps(response, ensure_ascii=False, separators=(",", ":"), default=str)
    return CallToolResult(
        content=[TextContent(type="text", text=text)],
        structured_content=response,
        is_error=response.get("status") != "ok",
    )


def _request_details(context: Context[Any, Any] | None) -> tuple[Mapping[str, Any], str | None]:
    if context is None:
        return {}, None
    try:
        request_context = context.request_context
    except ValueError:  # a call made in-process, outside any MCP request
        return {}, None
    meta: Mapping[str, Any] = request_context.meta or {}
    headers = getattr(request_context.request, "headers", None)
    session = headers.get(_SESSION_HEADER) if headers is not None else None
    return meta, session if isinstance(session, str) else None


class MayaMCPServer(MCPServer[Any]):
    """An ``MCPServer`` whose tools are a ``Toolset``'s, dispatched by the toolset itself."""

    def __init__(
        self,
        toolset: Toolset,
        *,
        tabs: TabPolicy,
        name: str = "maya",
        instructions: str | None = None,
    ) -> None:
        """Serve ``toolset``'s tools.

        Args:
            toolset: the tools (and through it the tab manager and payment gateway).
            tabs: which tab each call runs on.
            name: the server's name in the MCP handshake.
            instructions: what the client is told; default ``neutral_instructions``.
        """
        if instructions is None:
            instructions = neutral_instructions(toolset)
        # No change notifications are ever sent (the tools are fixed), so none are offered:
        # without a subscriptions/listen stream, stateless and handshake modes state the
        # same capabilities.
        super().__init__(
            name,
            instructions=instructions,
            version=__version__,
            log_level="WARNING",
            subscriptions=False,
        )
        self.toolset = toolset
        self.tabs = tabs
        self._tools = mcp_tools(toolset)
        self.middleware.append(ServedOnly(self._has))

    async def _has(self, family: str) -> bool:
        """Whether the server has any prompts (``prompts``) or resources (``resources``)."""
        if family == "prompts":
            return bool(await self.list_prompts())
        return bool(await self.list_resources() or await self.list_resource_templates())

    async def list_tools(self) -> list[MCPTool]:
        """Maya's tools, declared exactly as for Gemini."""
        return list(self._tools)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult:
        """Run one tool on the request's tab; every outcome is a result, never a raise.

        Raises:
            MCPError: ``-32602`` (invalid params) for a tool the server does not have,
                as the spec names it; the client had the list.
        """
        if name not in self.toolset.tool_names:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown tool: {name}"[:200])
        meta, session = _request_details(context)
        try:
            tab = self.tabs.tab_for(meta, session)
        except StateError as exc:
            return call_tool_result(error_result(exc.code, exc.message, exc.details))
        if tab is None:
            handle = self.tabs.issue_handle()
            refused = call_tool_result(
                error_result(
                    ErrorCode.INVALID_SESSION_ID,
                    "this request belongs to no tab: over stateless HTTP, pass a tab handle "
                    f"in the request's _meta as {TAB_META_KEY!r} (this result's _meta holds a "
                    "new one), connect with an MCP session, or start the server with --session",
                )
            )
            if handle is not None:
                refused.meta = {TAB_META_KEY: handle}
            return refused
        return call_tool_result(await self.toolset.call(name, arguments, tab))

    async def get_prompt(
        self,
        name: str,
        arguments: dict[str, Any] | None = None,
        context: Context[Any, Any] | None = None,
    ) -> GetPromptResult | InputRequiredResult:
        """A prompt by name; an unknown one is the client's mistake: ``-32602``, not logged.

        Raises:
            MCPError: ``-32602`` for a prompt the server does not have.
        """
        if not any(prompt.name == name for prompt in await self.list_prompts()):
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {name}"[:200])
        return await super().get_prompt(name, arguments, context)

    async def run_stdio_async(self) -> None:
        """Serve over stdin and stdout; a line that is not JSON-RPC gets an error, id null,
        and every request read before stdin closes is answered before the server ends."""
        async with (
            stdio_server() as (read_stream, write_stream),
            answer_parse_errors(read_stream, write_stream) as checked,
            answers_before_close(checked, write_stream) as (messages, writes),
        ):
            server = self._lowlevel_server  # the SDK's own stdio loop, fed the checked lines
            await server.run(messages, writes, server.create_initialization_options())

    def streamable_http_app(self, *args: Any, **kwargs: Any) -> Starlette:
        """The SDK's streamable HTTP app (same arguments), answering no cancelled request."""
        app = super().streamable_http_app(*args, **kwargs)
        app.add_middleware(NoCancelledReplies)
        return app


def build_mcp_server(
    toolset: Toolset, *, tabs: TabPolicy | None = None, instructions: str | None = None
) -> MayaMCPServer:
    """An MCP server for ``toolset``; default: one tab for this process's client (stdio).

    Connect in-process with ``mcp.Client(server)``, serve with ``run_stdio_async()`` or
    mount ``streamable_http_app()``. ``instructions`` are the application's (default:
    ``neutral_instructions(toolset)``).
    """
    return MayaMCPServer(
        toolset,
        tabs=tabs if tabs is not None else TabPolicy.for_stdio(),
        instructions=instructions,
    )
