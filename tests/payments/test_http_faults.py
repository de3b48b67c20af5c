"""Faults only HTTP has: a gateway answering 502 after the upstream acted.

The sandbox's HTTP app runs in this process behind a small ASGI wrapper that lets the
chosen request through (so the link is made) and then answers 502 Bad Gateway instead,
as a proxy in front of a dying upstream does. The client must find the link by its key,
not make a second one.
"""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maya.payments import McpServerConfig, StripeMCPClient
from maya.sandbox import MEMORY, SandboxStore, build_http_app
from maya.testing import FakeClock
from maya.testing.client_calls import count_client_calls

from .real_stripe import serve_tls

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


class BadGatewayAfter:
    """Passes requests through; the first whose body mentions ``marker`` acts, then 502s."""

    def __init__(self, app: ASGIApp, marker: bytes) -> None:
        self.app = app
        self.marker = marker
        self.tripped = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or self.tripped:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        if self.marker not in body:
            await self.app(scope, replay, send)
            return
        self.tripped += 1

        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, replay, swallow)  # the upstream acts; its answer is lost
        await send({"type": "http.response.start", "status": 502, "headers": []})
        await send({"type": "http.response.body", "body": b"<html>502 Bad Gateway</html>"})


@pytest.fixture
def store() -> Iterator[SandboxStore]:
    with SandboxStore(MEMORY) as sandbox_store:
        yield sandbox_store


@pytest.mark.parametrize("dialect", ["hosted", "generic"])
async def test_a_502_after_the_link_was_made_does_not_make_a_second_link(
    store: SandboxStore, clock: FakeClock, dialect: str
) -> None:
    app = build_http_app(
        store,
        dialect=dialect,  # type: ignore[arg-type]
        checkout_base_url="http://127.0.0.1:9",
        host="127.0.0.1",
    )
    gateway = BadGatewayAfter(app, b'"PostPaymentLinks"')
    with anyio.fail_after(30):
        async with serve_tls(gateway, None) as port:
            config = McpServerConfig(
                name="behind-a-proxy", transport="http", url=f"http://127.0.0.1:{port}/mcp"
            )
            async with StripeMCPClient.from_config(
                config, clock=clock, sleep=clock.sleep
            ) as client:
                calls = count_client_calls(client)
                link = await client.create_payment_link(2200, "Tab", f"proxy-{dialect}")
    assert gateway.tripped == 1
    assert not link.is_simulated
    assert [row["id"] for row in store.list_payment_links(limit=100)[0]] == [link.payment_id]
    assert calls.count(op="PostPaymentLinks") == 1
    assert calls.count(op="GetPaymentLinks") == 1
