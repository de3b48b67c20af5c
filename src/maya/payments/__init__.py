"""Stripe payments over the Model Context Protocol.

``open_stripe_client()`` reads ``mcp.json`` and yields a ``StripeMCPClient``; tests use
``StripeMCPClient.in_memory(server)``. Nothing here returns an MCP type.
"""

from maya.payments.client import StripeMCPClient, WriteHook
from maya.payments.config import (
    McpServerConfig,
    load_server_config,
    sandbox_server_config,
)
from maya.payments.errors import (
    LiveModeRefusedError,
    McpConfigError,
    PaymentLinkCreationError,
    PaymentRequestInvalidError,
    PaymentStatusTimeoutError,
    PaymentStatusUnsupportedError,
    StripeMCPError,
    StripeUnavailableError,
)
from maya.payments.factory import (
    REQUIRE_STRIPE_ENV,
    open_payment_side,
    open_stripe_client,
    sandbox_notice,
)
from maya.payments.results import (
    PaymentLink,
    PaymentStatusResult,
    StripeMode,
)
from maya.payments.settings import CHAT_STATUS_BOUNDS, StatusBounds, Timeouts
from maya.retry import RetryPolicy

__all__ = [
    "CHAT_STATUS_BOUNDS",
    "REQUIRE_STRIPE_ENV",
    "LiveModeRefusedError",
    "McpConfigError",
    "McpServerConfig",
    "PaymentLink",
    "PaymentLinkCreationError",
    "PaymentRequestInvalidError",
    "PaymentStatusResult",
    "PaymentStatusTimeoutError",
    "PaymentStatusUnsupportedError",
    "RetryPolicy",
    "StatusBounds",
    "StripeMCPClient",
    "StripeMCPError",
    "StripeMode",
    "StripeUnavailableError",
    "Timeouts",
    "WriteHook",
    "load_server_config",
    "open_payment_side",
    "open_stripe_client",
    "sandbox_notice",
    "sandbox_server_config",
]
