"""Maya's tools served over MCP (``maya mcp``), dispatched into the same ``Toolset``."""

from maya.mcp_server.result_schemas import (
    ERROR_SCHEMA,
    model_schema,
    ok_envelope_schema,
    output_schema,
    result_schemas,
)
from maya.mcp_server.server import (
    READ_ONLY_TOOLS,
    TAB_META_KEY,
    MayaMCPServer,
    TabPolicy,
    build_mcp_server,
    call_tool_result,
    mcp_tools,
)

__all__ = [
    "ERROR_SCHEMA",
    "READ_ONLY_TOOLS",
    "TAB_META_KEY",
    "MayaMCPServer",
    "TabPolicy",
    "build_mcp_server",
    "call_tool_result",
    "mcp_tools",
    "model_schema",
    "ok_envelope_schema",
    "output_schema",
    "result_schemas",
]
