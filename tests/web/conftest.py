"""Fixtures for the web page: an app over a memory store, and a real server on port 0."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from maya.agent.models.base import Model
from maya.agent.models.offline import OfflineModel
from maya.bar import load_menu
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.tools.context import PaymentGateway
from maya.web import WebSettings, create_web_app

ORIGIN = "http://testserver"
POSTGRES_ENV = "MAYA_TEST_POSTGRES_URL"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A store URL on the test PostgreSQL in a schema of its own, dropped afterwards."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    schema = f"maya_web_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in url else "?"
    yield f"{url}{separator}schema={schema}&options=-c%20synchronous_commit%3Doff"
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def make_app(
    manager: TabManager | None = None,
    *,
    model: Model | None = None,
    payments: PaymentGateway | None = None,
    settings: WebSettings | None = None,
) -> Starlette:
    """The page over ``manager`` (a fresh memory store by default), offline model."""
    return create_web_app(
        manager=manager
        if manager is not None
        else TabManager(MemoryTabStore(), catalog=load_menu()),
        payments=payments,
        model=model if model is not None else OfflineModel(),
        settings=settings,
    )


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A browser on the page (its cookie already given by ``GET /``)."""
    with TestClient(make_app(), base_url=ORIGIN) as browser:
        assert browser.get("/").status_code == 200
        yield browser


class _Server(uvicorn.Server):
    """A uvicorn server that says when it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = anyio.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@asynccontextmanager
async def serving(app: Starlette, *, port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1, ``port`` (0: any); yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = _Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            await server.listening.wait()
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            # Open event streams would hold a graceful shutdown: close them.
            server.force_exit = True
    # A forced exit leaves the event streams' connections open (their tasks outlive the
    # server): close them, as the end of a server process would, so a browser sees it.
    for connection in list(server.server_state.connections):
        transport = getattr(connection, "transport", None)
        if transport is not None:
            transport.close()
