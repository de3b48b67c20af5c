"""Real-time: half-open connections closed after the header deadline; the cap makes room.

Marked slow: it waits (a fraction of a second) for real timers on a real socket.
"""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import uvicorn

from maya.bar import load_menu
from maya.server import create_app
from maya.server.connections import ConnectionLimits
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = anyio.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@asynccontextmanager
async def guarded(limits: ConnectionLimits) -> AsyncIterator[tuple[int, _Server]]:
    app = create_app(
        TabManager(MemoryTabStore(), catalog=load_menu()), webhook_secret="whsec_" + "r" * 32
    )
    config = limits.config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = _Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            await server.listening.wait()
        try:
            yield server.servers[0].sockets[0].getsockname()[1], server
        finally:
            server.should_exit = True


def _closed_by_peer(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


async def test_half_open_connections_are_closed_after_the_header_timeout() -> None:
    async with guarded(ConnectionLimits(header_timeout_s=0.3, max_connections=50)) as (port, _):
        silent = socket.create_connection(("127.0.0.1", port))
        partial = socket.create_connection(("127.0.0.1", port))
        partial.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never ends
        started = time.monotonic()

        def trickle() -> bool:
            # A byte now and then resets uvicorn's keep-alive timer, not the header deadline.
            for _ in range(10):
                try:
                    partial.sendall(b"X")
                except OSError:
                    return True
                if _closed_by_peer(partial, 0.1):
                    return True
            return False

        with anyio.fail_after(10):
            assert await anyio.to_thread.run_sync(_closed_by_peer, silent, 5.0)
            assert await anyio.to_thread.run_sync(trickle)
        assert time.monotonic() - started < 3
        silent.close()
        partial.close()
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200


async def test_at_the_cap_the_idlest_connection_makes_room_for_healthz() -> None:
    limits = ConnectionLimits(header_timeout_s=60, max_connections=40)
    async with guarded(limits) as (port, server):
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
        try:
            with anyio.fail_after(10):
                while len(server.server_state.connections) < limits.max_connections:  # noqa: ASYNC110
                    await anyio.sleep(0.01)
            async with httpx.AsyncClient() as client:
                for _ in range(5):
                    with anyio.fail_after(5):
                        answer = await client.get(f"http://127.0.0.1:{port}/healthz")
                    assert answer.status_code == 200
            assert len(server.server_state.connections) <= limits.max_connections
            # The oldest idle connections were the ones closed.
            with anyio.fail_after(10):
                assert await anyio.to_thread.run_sync(_closed_by_peer, idle[0], 5.0)
        finally:
            for sock in idle:
                sock.close()
