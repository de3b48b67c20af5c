"""An offline Stripe stand-in: an MCP server, checkout pages and fault injection.

Serve it with ``maya sandbox`` (or ``python -m maya.sandbox``); use it in-process with
``build_mcp_server`` and ``mcp.Client(server)``. A link is paid when
``GetCheckoutSessions`` with ``payment_link=<id>`` returns a session with
``status: complete`` and ``payment_status: paid``.
"""

from maya.money import format_amount
from maya.sandbox.calls import LIST_TOOLS, CallCounts
from maya.sandbox.cards import (
    CARD_GENERIC_DECLINE,
    CARD_INSUFFICIENT_FUNDS,
    CARD_SUCCESS,
    CardVerdict,
    check_card,
)
from maya.sandbox.checkout import build_checkout_app, build_checkout_routes
from maya.sandbox.command import configure_parser, register
from maya.sandbox.errors import StripeError
from maya.sandbox.faults import (
    CRASH_EXIT_CODE,
    FAULTS_ENV,
    FaultConfig,
    FaultInjector,
    FaultSpecError,
)
from maya.sandbox.generic import GENERIC_TOOLS
from maya.sandbox.hosted import DEFAULT_ACCOUNTS, HOSTED_TOOLS, SandboxAccount
from maya.sandbox.named import NAMED_FAILURES, NAMED_TOOLS
from maya.sandbox.operations import OPERATIONS, run_operation
from maya.sandbox.payment import PaymentOutcome, PaymentResult, find_link, pay_link
from maya.sandbox.remote import apay_url, pay_url
from maya.sandbox.server import (
    Dialect,
    build_http_app,
    build_mcp_server,
    serve_http,
    serve_stdio,
)
from maya.sandbox.store import MEMORY, SandboxStore

__all__ = [
    "CARD_GENERIC_DECLINE",
    "CARD_INSUFFICIENT_FUNDS",
    "CARD_SUCCESS",
    "CRASH_EXIT_CODE",
    "DEFAULT_ACCOUNTS",
    "FAULTS_ENV",
    "GENERIC_TOOLS",
    "HOSTED_TOOLS",
    "LIST_TOOLS",
    "MEMORY",
    "NAMED_FAILURES",
    "NAMED_TOOLS",
    "OPERATIONS",
    "CallCounts",
    "CardVerdict",
    "Dialect",
    "FaultConfig",
    "FaultInjector",
    "FaultSpecError",
    "PaymentOutcome",
    "PaymentResult",
    "SandboxAccount",
    "SandboxStore",
    "StripeError",
    "apay_url",
    "build_checkout_app",
    "build_checkout_routes",
    "build_http_app",
    "build_mcp_server",
    "check_card",
    "configure_parser",
    "find_link",
    "format_amount",
    "pay_link",
    "pay_url",
    "register",
    "run_operation",
    "serve_http",
    "serve_stdio",
]
