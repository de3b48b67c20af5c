"""The tab overlay's event stream over a real server: now, after each change, across workers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest

from maya.bar import load_menu
from maya.state.manager import TabManager
from maya.state.open import open_store
from maya.web import WebSettings
from maya.web.security import COOKIE_NAME, session_of

from .conftest import make_app, serving

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def tab_events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The ``tab`` events of a stream, as they arrive."""
    name, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data += line[6:]
        elif line == "":
            if name == "tab" and data:
                yield json.loads(data)
            name, data = "", ""


@asynccontextmanager
async def open_browser(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser that has loaded the page (and so holds its cookie)."""
    async with httpx.AsyncClient(base_url=base_url, headers={"Origin": base_url}) as browser:
        assert (await browser.get("/")).status_code == 200
        yield browser


async def test_the_overlay_stream_sends_the_tab_then_each_change() -> None:
    app = make_app()
    async with serving(app) as base_url, open_browser(base_url) as browser:
        with anyio.fail_after(20):
            async with browser.stream("GET", "/api/tab/events") as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                assert "script-src 'self'" in response.headers["content-security-policy"]
                updates = tab_events(response)
                first = await updates.__anext__()
                assert first["tab"] == "$0.00"
                await browser.post("/api/chat", json={"message": "a martini"})
                assert (await updates.__anext__())["tab"] == "$13.00"
                await browser.post("/api/tip", json={"percent": 20})
                view = await updates.__anext__()
                assert (view["tip"], view["total_due"]) == ("$2.60", "$15.60")


async def test_the_stream_ends_after_its_lifetime_and_says_when_to_reconnect() -> None:
    app = make_app(settings=WebSettings(heartbeat_s=0.05, stream_max_s=0.3))
    async with serving(app) as base_url, open_browser(base_url) as browser:
        with anyio.fail_after(20):
            response = await browser.get("/api/tab/events")
    assert "retry: 1000" in response.text
    assert ": keep-alive" in response.text  # idle streams are kept open with comments
    assert response.text.count("event: tab") == 1


async def test_a_stream_only_carries_its_own_browsers_tab() -> None:
    app = make_app()
    async with (
        serving(app) as base_url,
        open_browser(base_url) as alice,
        open_browser(base_url) as bob,
    ):
        with anyio.fail_after(20):
            async with bob.stream("GET", "/api/tab/events") as response:
                updates = tab_events(response)
                assert (await updates.__anext__())["tab"] == "$0.00"
                await alice.post("/api/chat", json={"message": "a martini"})
                await bob.post("/api/chat", json={"message": "a water"})
                # Bob's next event is Bob's water, never Alice's martini.
                assert (await updates.__anext__())["tab"] == "$1.00"


@pytest.mark.postgres
async def test_a_change_on_one_worker_reaches_a_page_served_by_another(pg_url: str) -> None:
    # Two workers: two apps, each with its own store (pool) on one PostgreSQL database.
    store_a, store_b = open_store(pg_url), open_store(pg_url)
    try:
        # Workers share the server's secret: a cookie one issued is a session on the other.
        shared = WebSettings(cookie_secret=b"w" * 32)
        app_a = make_app(TabManager(store_a, catalog=load_menu()), settings=shared)
        app_b = make_app(TabManager(store_b, catalog=load_menu()), settings=shared)
        async with (
            serving(app_a) as url_a,
            serving(app_b) as url_b,
            open_browser(url_a) as page,
            httpx.AsyncClient(base_url=url_b, headers={"Origin": url_b}) as other,
        ):
            token = page.cookies[COOKIE_NAME]
            other.cookies.set(COOKIE_NAME, token)
            with anyio.fail_after(30):
                async with page.stream("GET", "/api/tab/events") as response:
                    updates = tab_events(response)
                    assert (await updates.__anext__())["tab"] == "$0.00"
                    answer = await other.post("/api/chat", json={"message": "a negroni"})
                    assert answer.status_code == 200
                    assert (await updates.__anext__())["tab"] == "$11.00"
                    await other.post("/api/tip", json={"percent": 10})
                    view = await updates.__anext__()
                    assert (view["tip"], view["total_due"]) == ("$1.10", "$12.10")
        state = await store_a.load(session_of(token))
        assert state is not None and state.tab_cents == 1100
    finally:
        await store_a.aclose()
        await store_b.aclose()


async def test_an_unavailable_store_ends_the_stream_and_the_page_retries(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'tabs.sqlite3'}")
    await store.aclose()  # every read now fails with StoreError
    app = make_app(TabManager(store, catalog=load_menu()))
    async with serving(app) as base_url, open_browser(base_url) as browser:
        with anyio.fail_after(20):
            response = await browser.get("/api/tab/events")
    assert response.status_code == 200
    assert "retry: 1000" in response.text
    assert "event: tab" not in response.text
