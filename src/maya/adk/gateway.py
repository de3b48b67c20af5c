"""A payment gateway opened on first use, for apps whose calls come from many tasks.

``LazyStripeGateway`` opens the client in a task it owns on the first payment call and
closes it in ``aclose()`` (``adk web`` builds agents at import time).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio

from maya.payments import (
    CHAT_STATUS_BOUNDS,
    PaymentLink,
    PaymentStatusResult,
    StripeMCPClient,
    WriteHook,
    open_stripe_client,
)

__all__ = ["LazyStripeGateway", "open_chat_client"]

Opener = Callable[[], AbstractAsyncContextManager[StripeMCPClient]]


def open_chat_client(*, sandbox: bool = False) -> AbstractAsyncContextManager[StripeMCPClient]:
    """``open_stripe_client`` with status checks bounded for a waiting customer.

    Args:
        sandbox: use the local sandbox when no Stripe server is configured.
    """
    return open_stripe_client(status_bounds=CHAT_STATUS_BOUNDS, sandbox=sandbox)


class LazyStripeGateway:
    """The configured Stripe MCP client, opened on first use in a task of its own."""

    def __init__(self, opener: Opener = open_chat_client, *, open_timeout: float = 30.0) -> None:
        """Create a gateway; nothing connects until the first payment call.

        Args:
            opener: yields the open payments client (default: ``mcp.json`` or the sandbox).
            open_timeout: seconds to wait for it to open.
        """
        self._opener = opener
        self._open_timeout = open_timeout
        self._lock = asyncio.Lock()
        self._client: StripeMCPClient | None = None
        self._failure: BaseException | None = None
        self._stop = asyncio.Event()
        self._owner: asyncio.Task[None] | None = None

    async def _own(self, ready: asyncio.Event) -> None:
        try:
            async with self._opener() as client:
                self._client = client
                ready.set()
                await self._stop.wait()
        except Exception as exc:  # reported to the caller waiting in _ensure
            self._failure = exc
        finally:
            self._client = None
            ready.set()

    async def _ensure(self) -> StripeMCPClient:
        """The open client; a failed opening is raised to this caller and retried next time.

        Raises:
            Exception: whatever opening the client raised (``McpConfigError``,
                ``LiveModeRefusedError``...).
            TimeoutError: it did not open within ``open_timeout``.
        """
        async with self._lock:
            if self._owner is None or self._owner.done():
                self._failure = None
                self._stop = asyncio.Event()
                ready = asyncio.Event()
                self._owner = asyncio.get_running_loop().create_task(self._own(ready))
                with anyio.fail_after(self._open_timeout):
                    await ready.wait()
            if self._client is None:
                if self._failure is not None:
                    # The opener's own error (e.g. LiveModeRefusedError) keeps its code.
                    raise self._failure
                raise RuntimeError("the payments client closed as soon as it opened")
            return self._client

    async def create_payment_link(
        self,
        amount_cents: int,
        description: str,
        idempotency_key: str,
        *,
        currency: str,
        look_first: bool = False,
        before_write: WriteHook | None = None,
    ) -> PaymentLink:
        """Forwarded to the client, opened first if need be."""
        client = await self._ensure()
        return await client.create_payment_link(
            amount_cents,
            description,
            idempotency_key,
            currency=currency,
            look_first=look_first,
            before_write=before_write,
        )

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        """Forwarded to the client, opened first if need be."""
        client = await self._ensure()
        return await client.deactivate_payment_link(payment_id)

    async def check_payment_status(self, payment_id: str) -> PaymentStatusResult:
        """Forwarded to the client (bounded for a waiting customer), opened first if need be."""
        client = await self._ensure()
        return await client.check_payment_status(payment_id)

    async def aclose(self) -> None:
        """Close the client if it was opened. Idempotent."""
        owner, self._owner = self._owner, None
        if owner is None:
            return
        self._stop.set()
        with anyio.fail_after(self._open_timeout):
            await owner
