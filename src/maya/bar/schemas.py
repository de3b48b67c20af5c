"""The MCP result schemas of the bar's tools, by name (what MCP clients validate against)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from maya.bar.tools import DEFAULT_TOOLS
from maya.mcp_server.result_schemas import result_schemas

__all__ = ["RESULT_SCHEMAS"]

RESULT_SCHEMAS: Mapping[str, dict[str, Any]] = result_schemas(DEFAULT_TOOLS)
"""The ``result`` of each of the bar's tools' ``ok`` responses, by name."""
