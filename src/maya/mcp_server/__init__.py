"""Maya's tools served over MCP (``maya mcp``), dispatched into the same ``Toolset``."""

from maya.mcp_server.result_schemas import (
    ERROR_SCHEMA,
    output_schema,
)
from maya.mcp_server.server import (
    TAB_META_KEY,
    TabPolicy,
    build_mcp_server,
    mcp_tools,
)

__all__ = [
    "ERROR_SCHEMA",
    "TAB_META_KEY",
    "TabPolicy",
    "build_mcp_server",
    "mcp_tools",
    "output_schema",
]
