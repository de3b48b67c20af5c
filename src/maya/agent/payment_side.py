"""The payment side of a chat: a Stripe MCP client, bounded for a customer who is waiting.

``StripeMCPClient.check_payment_status`` polls for up to 30 seconds by default, which is
right for a background job but not for a chat turn; ``ChatPayments`` passes shorter
polling bounds and otherwise forwards to the client. ``open_payment_side`` opens the
payment side a demo or a conversation test asks for: the sandbox as a real subprocess
(with its own database and optional faults), an unreachable server (test mode then
falls back to simulated links), or none at all.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from maya.payments import (
    McpServerConfig,
    PaymentLink,
    PaymentStatusResult,
    StripeMCPClient,
    open_stripe_client,
    sandbox_server_config,
)

__all__ = [
    "ChatPayments",
    "PaymentSideMode",
    "StatusBounds",
    "open_chat_payments",
    "open_payment_side",
]

PaymentSideMode = Literal["sandbox", "unavailable", "none"]
"""``sandbox``: spawn the offline Stripe sandbox; ``unavailable``: a server that never
answers; ``none``: no payment client."""

STATUS_TIMEOUT_FAULT = "hang_after=0,only=GetCheckoutSessions+stripe_api_read"
"""Every status read hangs: the payment's status can never be learned."""


@dataclass(frozen=True, slots=True)
class StatusBounds:
    """How long one status check may keep the customer waiting.

    Attributes:
        poll_interval_s: between two reads of the status.
        poll_timeout_s: for one read.
        deadline_s: for the whole check.
    """

    poll_interval_s: float = 0.5
    poll_timeout_s: float = 2.0
    deadline_s: float = 4.0


class ChatPayments:
    """A ``StripeMCPClient`` whose status checks are bounded by ``StatusBounds``."""

    def __init__(self, client: StripeMCPClient, *, bounds: StatusBounds | None = None) -> None:
        """Wrap ``client`` (already open).

        Args:
            client: the Stripe MCP client.
            bounds: status-check bounds (default: ``StatusBounds()``).
        """
        self.client = client
        self.bounds = bounds if bounds is not None else StatusBounds()

    async def create_payment_link(
        self, amount_cents: int, description: str, idempotency_key: str
    ) -> PaymentLink:
        """Forwarded to ``StripeMCPClient.create_payment_link``."""
        return await self.client.create_payment_link(amount_cents, description, idempotency_key)

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        """Forwarded to ``StripeMCPClient.deactivate_payment_link``."""
        return await self.client.deactivate_payment_link(payment_id)

    async def check_payment_status(self, payment_id: str) -> PaymentStatusResult:
        """``StripeMCPClient.check_payment_status`` within this object's bounds."""
        return await self.client.check_payment_status(
            payment_id,
            poll_interval=self.bounds.poll_interval_s,
            poll_timeout=self.bounds.poll_timeout_s,
            deadline=self.bounds.deadline_s,
        )


def _unreachable_config() -> McpServerConfig:
    # A "server" that exits at once: every probe fails fast, as with Stripe down.
    return McpServerConfig(
        name="unreachable",
        transport="stdio",
        command=sys.executable,
        args=("-c", "raise SystemExit(3)"),
        mode="test",
    )


@asynccontextmanager
async def open_payment_side(
    mode: PaymentSideMode,
    *,
    workdir: Path,
    faults: str | None = None,
    status_timeout: bool = False,
    bounds: StatusBounds | None = None,
) -> AsyncIterator[ChatPayments | None]:
    """Open the payment side ``mode`` names, closed when the block ends.

    Args:
        mode: ``sandbox``, ``unavailable`` or ``none``.
        workdir: where the sandbox keeps its SQLite database.
        faults: a sandbox fault spec (see ``maya.sandbox.faults``).
        status_timeout: make every status read hang (the check then times out).
        bounds: status-check bounds (default: short ones when ``status_timeout``).

    Yields:
        The gateway for ``Toolset(payments=...)``, or None for ``none``.
    """
    if mode == "none":
        yield None
        return
    if mode == "unavailable":
        config = _unreachable_config()
    else:
        specs = [
            spec for spec in (faults, STATUS_TIMEOUT_FAULT if status_timeout else None) if spec
        ]
        args = ["--db", str(workdir / "sandbox.sqlite3")]
        if specs:
            args += ["--faults", ",".join(specs)]
        config = sandbox_server_config(args=tuple(args))
    if bounds is None and status_timeout:
        bounds = StatusBounds(poll_interval_s=0.2, poll_timeout_s=0.5, deadline_s=1.5)
    async with StripeMCPClient.from_config(config, probe_timeout=10.0) as client:
        yield ChatPayments(client, bounds=bounds)


@asynccontextmanager
async def open_chat_payments(*, bounds: StatusBounds | None = None) -> AsyncIterator[ChatPayments]:
    """The configured Stripe server (``mcp.json``), or the sandbox when none is configured.

    Raises:
        McpConfigError: the configuration is malformed.
        LiveModeRefusedError: a live key is configured and live mode is not allowed.
    """
    async with open_stripe_client() as client:
        yield ChatPayments(client, bounds=bounds)
