"""The page in front of hostile clients: bodies, cookies, rate limits, streams, bad text."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from maya.bar import load_menu
from maya.server.app import create_app
from maya.server.connections import ConnectionLimits
from maya.signing import Signer
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.web import WebSettings
from maya.web.app import web_routes
from maya.web.security import COOKIE_NAME, COOKIE_PURPOSE, session_of

from .conftest import ORIGIN, _Server, make_app

POST = {"Origin": ORIGIN}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """The app on uvicorn with ``maya serve``'s connection handling, port 0."""
    config = ConnectionLimits().config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
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
            server.force_exit = True


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/self/status")


def _reset_peak_rss() -> int:
    """Reset the peak resident size (Linux: clear_refs 5); returns it afterwards, in KiB."""
    Path("/proc/self/clear_refs").write_text("5")
    return _rss_kib("VmHWM")


def _chunked_upload(port: int, cookie: str, total: int) -> tuple[bytes, int]:
    """POST ``total`` bytes chunked to /api/chat, stopping once the server answers."""
    chunk = b"x" * 65536
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    sent = 0
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nCookie: {COOKIE_NAME}={cookie}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        )
        sock.setblocking(False)
        try:
            while sent < total:
                try:
                    answer += sock.recv(65536)
                    break  # the server answered (or closed): stop sending
                except BlockingIOError:
                    pass
                try:
                    sock.sendall(frame)
                except BlockingIOError:
                    time.sleep(0.001)
                    continue
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.setblocking(True)
        sock.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer:
                more = sock.recv(65536)
                if not more:
                    break
                answer += more
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


@pytest.mark.anyio
@pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="peak RSS is reset through Linux's /proc"
)
async def test_a_chunked_64_mib_body_is_refused_with_memory_bounded() -> None:
    app = make_app()
    async with serving(app) as base:
        port = int(base.rsplit(":", 1)[1])
        async with httpx.AsyncClient() as browser:
            cookie = (await browser.get(base + "/")).cookies[COOKIE_NAME]
        # The peak resident size, reset (Linux: clear_refs 5), then read after the upload.
        before = _reset_peak_rss()
        with anyio.fail_after(60):
            answer, sent = await anyio.to_thread.run_sync(_chunked_upload, port, cookie, 64 << 20)
        grown_mib = (_rss_kib("VmHWM") - before) / 1024
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert sent < 64 << 20  # refused long before the end
    assert grown_mib < 16, f"peak RSS grew {grown_mib:.0f} MiB"


def test_a_declared_oversized_body_is_refused_before_reading(client: TestClient) -> None:
    response = client.post(
        "/api/chat", content=b"{" + b" " * 20_000 + b"}", headers={**POST, "Content-Type": "x"}
    )
    assert response.status_code == 413


def test_a_cookie_the_server_never_issued_is_replaced() -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    forged = "A" * 43
    with TestClient(make_app(manager), base_url=ORIGIN) as browser:
        browser.cookies.set(COOKIE_NAME, forged)
        assert browser.get("/api/tab").status_code == 401
        assert browser.post("/api/tip", json={"percent": 10}, headers=POST).status_code == 401
        page = browser.get("/")
        issued = page.cookies[COOKIE_NAME]
        assert issued != forged
        assert browser.post("/api/tip", json={"percent": 10}, headers=POST).status_code == 200
        stored = browser.portal.call(manager.store.session_ids)
    assert session_of(forged) not in stored
    assert stored == [session_of(issued)]


def test_a_well_formed_token_signed_with_another_secret_is_not_a_session() -> None:
    other = Signer(b"s" * 32, purpose=COOKIE_PURPOSE).issue()
    with TestClient(make_app(settings=WebSettings(cookie_secret=b"t" * 32)), base_url=ORIGIN) as b:
        b.cookies.set(COOKIE_NAME, other)
        assert b.get("/api/tab").status_code == 401
        assert b.get("/").cookies[COOKIE_NAME] != other


def test_cookies_outlive_a_restart_with_the_same_secret() -> None:
    settings = WebSettings(cookie_secret=b"k" * 32)
    with TestClient(make_app(settings=settings), base_url=ORIGIN) as first:
        first.get("/")
        token = first.cookies[COOKIE_NAME]
    with TestClient(make_app(settings=settings), base_url=ORIGIN) as second:
        second.cookies.set(COOKIE_NAME, token)
        assert second.get("/api/tab").status_code == 200


def _chat(browser: TestClient, text: str = "hello") -> httpx.Response:
    return browser.post("/api/chat", json={"message": text}, headers=POST)


def test_a_session_chatting_too_fast_is_told_to_slow_down() -> None:
    clock = FakeClock()
    settings = WebSettings(chat_turns_per_session=3, chat_window_s=60, clock=clock)
    with TestClient(make_app(settings=settings), base_url=ORIGIN) as browser:
        browser.get("/")
        assert [_chat(browser).status_code for _ in range(3)] == [200, 200, 200]
        refused = _chat(browser)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "60"
        body = refused.json()
        assert body["code"] == "chat_rate_limited"
        assert "Easy there" in body["error"] and "60 seconds" in body["error"]
        clock.now += 30
        assert _chat(browser).status_code == 429
        assert _chat(browser).headers["retry-after"] == "30"
        clock.now += 30.5
        assert _chat(browser).status_code == 200


def test_one_client_with_many_cookies_is_limited_too(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    settings = WebSettings(chat_turns_per_client=4, chat_window_s=60, clock=clock)
    app = make_app(settings=settings)
    statuses = []
    for _ in range(6):  # a fresh, self-made session each time: still one client address
        with TestClient(app, base_url=ORIGIN) as browser:
            browser.get("/")
            statuses.append(_chat(browser).status_code)
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert "client rate limit" in caplog.text


def test_a_refused_turn_calls_no_model() -> None:
    calls = []

    class CountingModel:
        name = "counting"

        async def generate(self, **_: Any) -> Any:
            from maya.agent.models.base import text_response

            calls.append(1)
            return text_response("Hi.")

    settings = WebSettings(chat_turns_per_session=1, clock=FakeClock())
    with TestClient(make_app(model=CountingModel(), settings=settings), base_url=ORIGIN) as b:
        b.get("/")
        _chat(b)
        assert _chat(b).status_code == 429
    assert len(calls) == 1


def test_deeply_nested_json_is_a_400_not_a_crash(client: TestClient) -> None:
    body = b"[" * 10_000 + b"]" * 10_000
    response = client.post("/api/tip", content=body[:16_000], headers=POST)
    assert response.status_code == 400


def test_a_lone_surrogate_in_a_message_is_a_400_not_a_crash(client: TestClient) -> None:
    body = b'{"message": "hello \\ud800"}'
    response = client.post(
        "/api/chat", content=body, headers={**POST, "Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert client.get("/api/tab").status_code == 200


@pytest.mark.anyio
async def test_one_session_holds_a_bounded_number_of_tab_streams() -> None:
    settings = WebSettings(max_streams_per_session=2, heartbeat_s=30)
    app = make_app(settings=settings)
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as browser:
        page = await browser.get("/")
        assert page.status_code == 200
        async with (
            browser.stream("GET", "/api/tab/events") as first,
            browser.stream("GET", "/api/tab/events") as second,
        ):
            assert first.status_code == second.status_code == 200
            third = await browser.get("/api/tab/events")
            assert third.status_code == 429
            assert third.headers["retry-after"]
        # Closed streams free their places.
        with anyio.fail_after(10):
            while app.state.maya_web._streams:  # noqa: ASYNC110 - no event to wait on
                await anyio.sleep(0.01)
        async with browser.stream("GET", "/api/tab/events") as again:
            assert again.status_code == 200
            json.dumps(dict(again.headers))


@pytest.mark.anyio
async def test_a_head_of_the_tab_stream_ends_at_once_and_holds_no_place() -> None:
    """HEAD used to get the stream's headers and then nothing, never ended, holding one of
    the session's stream places until the client gave up."""
    settings = WebSettings(max_streams_per_session=1, heartbeat_s=30)
    app = make_app(settings=settings)
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as browser:
        assert (await browser.get("/")).status_code == 200
        with anyio.fail_after(10):
            for _ in range(3):
                head = await browser.head("/api/tab/events")
                assert head.status_code == 200
                assert head.headers["content-type"].startswith("text/event-stream")
            async with browser.stream("GET", "/api/tab/events") as stream:
                assert stream.status_code == 200


def test_the_tool_call_cap_is_a_page_setting() -> None:
    from maya.agent.models.base import calls_response, text_response
    from maya.testing import ScriptedModel

    model = ScriptedModel(
        [calls_response([("order_drink", {"name": "Water"})] * 3), text_response("No.")]
    )
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    app = make_app(manager, model=model, settings=WebSettings(max_tool_calls=2))
    with TestClient(app, base_url=ORIGIN) as browser:
        browser.get("/")
        assert _chat(browser, "three waters").status_code == 200
        assert browser.get("/api/tab").json()["tab_cents"] == 0


def test_the_limiter_counts_only_what_it_lets_through() -> None:
    from maya.web.limits import RateLimiter

    clock = FakeClock()
    limiter = RateLimiter(limit=2, window_s=10, clock=clock, max_keys=2)
    assert [limiter.take("a"), limiter.take("a")] == [0.0, 0.0]
    assert limiter.wait("a") == 10 and limiter.take("a") == 10
    clock.now += 4
    assert limiter.take("a") == 6  # refusals did not extend the wait
    clock.now += 6
    assert limiter.take("a") == 0.0
    # Keys are bounded: the least recently used is forgotten first.
    limiter.take("b")
    limiter.take("c")
    assert limiter.wait("a") == 0.0
    assert RateLimiter(limit=0, window_s=1).take("x") == 0.0


def _hang_up_mid_body(port: int, cookie: str, path: str) -> None:
    """POST ``path`` declaring 100 bytes, send 7, and hang up."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nCookie: {COOKIE_NAME}={cookie}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            '{"perc'.encode()
        )


@pytest.mark.anyio
async def test_a_client_hanging_up_mid_body_is_no_server_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """It used to end in a traceback and a 500 on the request's log line (Starlette's
    ClientDisconnect, unhandled): now the body is refused as any bad body is."""
    caplog.set_level("INFO")
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    settings = WebSettings(cookie_secret=b"k" * 32)
    app = create_app(
        manager,
        webhook_secret="whsec_" + "x" * 32,
        routes=web_routes(manager=manager, payments=None, settings=settings),
        allowed_hosts=["127.0.0.1"],
    )
    paths = ("/api/tip", "/api/chat", "/stripe/webhook")
    served: list[str] = []
    all_served = anyio.Event()

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("POST"):
                served.append(record.getMessage())
            if len(served) == len(paths):
                all_served.set()

    lines = Lines()
    logging.getLogger("maya.server").addHandler(lines)
    try:
        async with serving(app) as base:
            port = int(base.rsplit(":", 1)[1])
            async with httpx.AsyncClient() as browser:
                cookie = (await browser.get(base + "/")).cookies[COOKIE_NAME]
                before = (await browser.get(base + "/api/tab", headers=POST)).json()
                for path in paths:
                    await anyio.to_thread.run_sync(_hang_up_mid_body, port, cookie, path)
                with anyio.fail_after(10):  # each hang-up seen to its end
                    await all_served.wait()
                after = (await browser.get(base + "/api/tab", headers=POST)).json()
    finally:
        logging.getLogger("maya.server").removeHandler(lines)
    assert after == before
    assert sorted(line.split()[:3] for line in served) == sorted(
        ["POST", path, "400"] for path in paths
    )
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]
