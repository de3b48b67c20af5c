"""The Gemini tool surface: declarations, dispatch, typed results, and responses in the
application's words."""

from maya.messages import MessageBook, load_messages
from maya.tools.arguments import (
    ToolArgs,
)
from maya.tools.catalog import CATALOG_TOOLS, PAYMENT_TOOLS, RESULT_MODELS, ToolSpec
from maya.tools.context import PaymentGateway
from maya.tools.schema_gemini import to_gemini_schema
from maya.tools.toolset import (
    ToolCallRecord,
    ToolSchemaError,
    Toolset,
    build_declarations,
)

__all__ = [
    "CATALOG_TOOLS",
    "PAYMENT_TOOLS",
    "RESULT_MODELS",
    "MessageBook",
    "PaymentGateway",
    "ToolArgs",
    "ToolCallRecord",
    "ToolSchemaError",
    "ToolSpec",
    "Toolset",
    "build_declarations",
    "load_messages",
    "to_gemini_schema",
]
