"""What the coffee-shop tests share: the bar's words no shop may show, and a sandbox
(in memory) with a payments client on it, for the recipe tests of every venv."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator

import pytest

from maya.payments import StripeMCPClient
from maya.sandbox import MEMORY, SandboxStore, build_mcp_server
from maya.testing import FakeClock

BANNED = re.compile(r"bar|drink|pour|bartender|maya", re.IGNORECASE)
"""Words of the bar (and its name) that no shop's result, message or product may carry."""


@pytest.fixture
def sandbox() -> Iterator[SandboxStore]:
    """The sandbox's objects, in memory."""
    with SandboxStore(MEMORY) as store:
        yield store


@pytest.fixture
async def payments(sandbox: SandboxStore) -> AsyncIterator[StripeMCPClient]:
    """A payments client on ``sandbox``, over an in-memory MCP session (fake clock)."""
    server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
    clock = FakeClock()
    async with StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep) as client:
        yield client
