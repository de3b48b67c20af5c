"""The Gemini tool surface: declarations, dispatch, typed results, and responses in the
application's words."""

from maya.messages import MessageBook, load_messages
from maya.redact import redact
from maya.tools.arguments import (
    CheckPaymentStatusArgs,
    CreateStripePaymentArgs,
    GetBalanceArgs,
    GetBillArgs,
    GetCatalogArgs,
    OrderItemArgs,
    RemoveTipArgs,
    SetTipArgs,
    ToolArgs,
)
from maya.tools.catalog import CATALOG_TOOLS, PAYMENT_TOOLS, RESULT_MODELS, TOOLS, ToolSpec
from maya.tools.context import PaymentGateway, PaymentLinkInfo, PaymentStatusInfo
from maya.tools.result_models import (
    BalanceResult,
    BillResult,
    CancelResult,
    CatalogResult,
    OrderItemResult,
    PaymentCheckResult,
    PaymentLinkResult,
    TipResult,
)
from maya.tools.results import ToolError, ToolResult, is_ok
from maya.tools.schema_gemini import to_gemini_schema
from maya.tools.toolset import (
    LOG_BODIES_ENV,
    ToolCallable,
    ToolCallRecord,
    ToolObserver,
    ToolSchemaError,
    Toolset,
    build_declarations,
    declarations_size,
)

__all__ = [
    "CATALOG_TOOLS",
    "LOG_BODIES_ENV",
    "PAYMENT_TOOLS",
    "RESULT_MODELS",
    "TOOLS",
    "BalanceResult",
    "BillResult",
    "CancelResult",
    "CatalogResult",
    "CheckPaymentStatusArgs",
    "CreateStripePaymentArgs",
    "GetBalanceArgs",
    "GetBillArgs",
    "GetCatalogArgs",
    "MessageBook",
    "OrderItemArgs",
    "OrderItemResult",
    "PaymentCheckResult",
    "PaymentGateway",
    "PaymentLinkInfo",
    "PaymentLinkResult",
    "PaymentStatusInfo",
    "RemoveTipArgs",
    "SetTipArgs",
    "TipResult",
    "ToolArgs",
    "ToolCallRecord",
    "ToolCallable",
    "ToolError",
    "ToolObserver",
    "ToolResult",
    "ToolSchemaError",
    "ToolSpec",
    "Toolset",
    "build_declarations",
    "declarations_size",
    "is_ok",
    "load_messages",
    "redact",
    "to_gemini_schema",
]
