"""The bar in one process, for the tests of Maya's other surfaces (MCP server, ADK, OTel).

The tab is in a memory store; payments go to the offline Stripe sandbox over an in-memory
MCP session (the real ``StripeMCPClient`` and the real sandbox server), and a link is paid
through the sandbox's own checkout logic, as submitting its form would. The client runs on
a ``FakeClock``: status polls of an unpaid link time out at once instead of waiting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.payments import StripeMCPClient
from maya.sandbox import CARD_SUCCESS, MEMORY, PaymentResult, SandboxStore, pay_link
from maya.sandbox import build_mcp_server as build_sandbox_server
from maya.state import MemoryTabStore, TabManager
from maya.testing import FakeClock
from maya.tools import Toolset

CHECKOUT = "http://127.0.0.1:9"  # loopback: the only host a plain-http link may use


@dataclass
class Bar:
    """A toolset wired to a tab manager and the sandbox."""

    toolset: Toolset
    manager: TabManager
    sandbox: SandboxStore

    def pay(self, url: str, card: str = CARD_SUCCESS) -> PaymentResult:
        """Pay a sandbox link with ``card`` (the 4242 test card by default)."""
        return pay_link(self.sandbox, url, card)


@asynccontextmanager
async def open_bar() -> AsyncIterator[Bar]:
    """A fresh bar; closed when the block ends."""
    sandbox = SandboxStore(MEMORY)
    server = build_sandbox_server(sandbox, checkout_base_url=CHECKOUT)
    try:
        clock = FakeClock()
        async with StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as stripe:
            manager = TabManager(MemoryTabStore(), catalog=load_menu())
            yield Bar(
                Toolset(manager=manager, payments=stripe, messages=bar_messages()), manager, sandbox
            )
    finally:
        sandbox.close()
