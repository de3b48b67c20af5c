"""An offline Stripe stand-in: an MCP server, checkout pages and fault injection.

Serve it with ``maya sandbox``; in-process, ``build_mcp_server`` and ``mcp.Client(server)``.
A link is paid when ``GetCheckoutSessions`` finds a ``complete``, ``paid`` session for it.
"""

from maya.sandbox.calls import LIST_TOOLS, CallCounts
from maya.sandbox.cards import (
    CARD_GENERIC_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    check_card,
)
from maya.sandbox.checkout import build_checkout_app
from maya.sandbox.command import register
from maya.sandbox.errors import StripeError
from maya.sandbox.faults import CRASH_EXIT_CODE, FaultConfig, FaultSpecError
from maya.sandbox.hosted import DEFAULT_ACCOUNTS, SandboxAccount
from maya.sandbox.operations import run_operation
from maya.sandbox.payment import PaymentResult, pay_link
from maya.sandbox.remote import apay_url
from maya.sandbox.server import Dialect, build_http_app, build_mcp_server
from maya.sandbox.store import MEMORY, SandboxStore

__all__ = [
    "CARD_GENERIC_DECLINE",
    "CARD_INSUFFICIENT_FUNDS",
    "CARD_SUCCESS",
    "CRASH_EXIT_CODE",
    "DEFAULT_ACCOUNTS",
    "LIST_TOOLS",
    "MEMORY",
    "CallCounts",
    "Dialect",
    "FaultConfig",
    "FaultSpecError",
    "PaymentResult",
    "SandboxAccount",
    "SandboxStore",
    "StripeError",
    "apay_url",
    "build_checkout_app",
    "build_http_app",
    "build_mcp_server",
    "check_card",
    "pay_link",
    "register",
    "run_operation",
]
