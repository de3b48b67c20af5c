"""Stripe payments over the Model Context Protocol.

``open_stripe_client()`` reads ``mcp.json`` and yields a ``StripeMCPClient``; tests use
``StripeMCPClient.in_memory(server)``. Nothing here returns an MCP type.
"""

from maya.payments.client import StripeMCPClient, WriteHook
from maya.payments.config import (
    ALLOW_LIVE_ENV,
    CONFIG_ENV,
    DEFAULT_SERVER_NAME,
    SERVER_ENV,
    McpServerConfig,
    allow_live_from_env,
    detect_mode,
    find_config_file,
    load_server_config,
    sandbox_server_config,
)
from maya.payments.errors import (
    LiveModeRefusedError,
    McpConfigError,
    PaymentLinkCreationError,
    PaymentNotFoundError,
    PaymentRequestInvalidError,
    PaymentStatusTimeoutError,
    PaymentStatusUnsupportedError,
    StripeMCPError,
    StripeUnavailableError,
)
from maya.payments.factory import (
    REQUIRE_STRIPE_ENV,
    PaymentSideMode,
    open_payment_side,
    open_stripe_client,
    sandbox_notice,
)
from maya.payments.results import (
    CheckOutcome,
    PaymentLink,
    PaymentStatusResult,
    Provider,
    StripeMode,
)
from maya.payments.settings import CHAT_STATUS_BOUNDS, MAX_STATUS_POLLS, StatusBounds, Timeouts
from maya.retry import RetryPolicy

__all__ = [
    "ALLOW_LIVE_ENV",
    "CHAT_STATUS_BOUNDS",
    "CONFIG_ENV",
    "DEFAULT_SERVER_NAME",
    "MAX_STATUS_POLLS",
    "REQUIRE_STRIPE_ENV",
    "SERVER_ENV",
    "CheckOutcome",
    "LiveModeRefusedError",
    "McpConfigError",
    "McpServerConfig",
    "PaymentLink",
    "PaymentLinkCreationError",
    "PaymentNotFoundError",
    "PaymentRequestInvalidError",
    "PaymentSideMode",
    "PaymentStatusResult",
    "PaymentStatusTimeoutError",
    "PaymentStatusUnsupportedError",
    "Provider",
    "RetryPolicy",
    "StatusBounds",
    "StripeMCPClient",
    "StripeMCPError",
    "StripeMode",
    "StripeUnavailableError",
    "Timeouts",
    "WriteHook",
    "allow_live_from_env",
    "detect_mode",
    "find_config_file",
    "load_server_config",
    "open_payment_side",
    "open_stripe_client",
    "sandbox_notice",
    "sandbox_server_config",
]
