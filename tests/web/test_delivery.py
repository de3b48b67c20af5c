"""How the page travels: compressed text (never the event streams), a turn's events in
few writes, its icon, its description, the inlined stylesheet's CSP hash, and the
session each tab reply names."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Awaitable, Callable
from importlib import resources

import anyio
from starlette.testclient import TestClient
from starlette.types import Message

from maya.web.security import session_of
from maya.web.streams import Emit, TurnStream

from .conftest import ORIGIN, make_app
from .test_routes import events_of

POST = {"Origin": ORIGIN}
GZIP = {"Accept-Encoding": "gzip"}


def test_html_script_and_json_replies_are_gzipped(client: TestClient) -> None:
    page = client.get("/", headers=GZIP)
    script = client.get("/static/maya.js", headers=GZIP)
    tab = client.get("/api/tab", headers=GZIP)
    for response in (page, script, tab):
        assert response.headers["content-encoding"] == "gzip", response.url
        assert "accept-encoding" in response.headers["vary"].lower()
        # Compressed on the wire, whole once decoded, still under the page's own policy.
        assert int(response.headers["content-length"]) < len(response.content)
        assert "content-security-policy" in response.headers
    assert b"</html>" in page.content
    assert tab.json()["tab_cents"] == 0
    fresh = client.post("/api/new-tab", headers={**POST, **GZIP})
    assert fresh.headers["content-encoding"] == "gzip"


def test_without_accept_encoding_nothing_is_compressed(client: TestClient) -> None:
    response = client.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(response.content)


def test_the_chat_stream_is_never_compressed(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "a martini"}, headers={**POST, **GZIP})
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "content-encoding" not in response.headers
    done = events_of(response.text)[-1]
    assert done[0] == "done"


def test_the_tab_stream_route_has_no_compression() -> None:
    # The stream itself never ends on its own inside a test client; its route is the one
    # the page reads: no gzip layer wraps it (compressing would hold events back).
    from starlette.routing import Route

    app = make_app()
    routes = {r.path: r for r in app.routes if isinstance(r, Route)}
    wrapped = {path for path, r in routes.items() if "GZip" in type(r.app).__name__}
    assert "/api/tab/events" not in wrapped and "/api/chat" not in wrapped
    assert {"/api/tab", "/api/tip", "/api/pay", "/api/new-tab"} <= wrapped
    # The page and its script are gzipped once, ahead, not by a layer on every request.
    assert not {"/", "/static/{name}"} & wrapped


def test_the_page_is_gzipped_once_the_same_bytes_for_everyone(client: TestClient) -> None:
    first, second = client.get("/", headers=GZIP), client.get("/", headers=GZIP)
    plain = client.get("/", headers={"Accept-Encoding": "identity"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.content == second.content == plain.content  # decoded: the same page
    assert first.headers["content-length"] == second.headers["content-length"]
    assert first.headers["content-security-policy"] == plain.headers["content-security-policy"]
    assert "sha256-" in plain.headers["content-security-policy"]  # the page's own policy
    assert plain.headers["x-frame-options"] == "DENY"


def test_the_page_has_an_icon_and_a_description(client: TestClient) -> None:
    page = client.get("/").text
    assert re.search(r'<meta name="description" content="[^"]{50,160}">', page)
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml">' in page
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")


def test_the_inlined_stylesheet_is_allowed_by_its_hash_and_nothing_else(
    client: TestClient,
) -> None:
    response = client.get("/")
    style = re.search(r"<style>(.*?)</style>", response.text, re.S)
    assert style is not None
    css = resources.files("maya.web").joinpath("static", "maya.css").read_bytes().strip()
    assert style.group(1).encode() == css
    digest = base64.b64encode(hashlib.sha256(css).digest()).decode()
    policy = response.headers["content-security-policy"]
    assert f"style-src 'self' 'sha256-{digest}';" in policy
    assert "unsafe-inline" not in policy
    # Every other reply keeps the plain policy.
    assert "sha256" not in client.get("/api/tab").headers["content-security-policy"]


def test_every_tab_reply_and_chat_answer_names_its_session(client: TestClient) -> None:
    tab = client.get("/api/tab").json()
    token = client.cookies.get("maya_tab")
    assert token is not None
    assert tab["session"] == hashlib.sha256(session_of(token).encode()).hexdigest()[:16]
    assert session_of(token) not in str(tab)  # a hash of the id, never the id
    chat = client.post("/api/chat", json={"message": "a beer"}, headers=POST)
    assert events_of(chat.text)[-1][1]["session"] == tab["session"]
    fresh = client.post("/api/new-tab", headers=POST).json()
    assert fresh["session"] != tab["session"]
    assert fresh["version"] <= tab["version"] + 1  # versions alone cannot tell them apart
    assert client.get("/api/tab").json()["session"] == fresh["session"]


def _sent_by_turn_stream(
    run: Callable[[Emit], Awaitable[None]],
    *,
    linger_s: float = 0.0,
    on_send: Callable[[Message], None] = lambda message: None,
) -> tuple[list[Message], BaseException | None]:
    """The ASGI messages a ``TurnStream`` running ``run`` sends, and what it raised; no
    task of the stream's is left behind."""
    sent: list[Message] = []
    raised: list[BaseException] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        on_send(message)

    async def main() -> None:
        before = asyncio.all_tasks()
        try:
            await TurnStream(run, linger_s=linger_s)({"type": "http"}, receive, send)
        except BaseException as exc:
            raised.append(exc)
        await anyio.lowlevel.checkpoint()
        assert asyncio.all_tasks() == before

    anyio.run(main)
    return sent, raised[0] if raised else None


def _bodies(sent: list[Message]) -> list[tuple[bool, bytes]]:
    assert sent[0]["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in sent[1:])
    return [(m["more_body"], m["body"]) for m in sent[1:]]


def test_without_linger_a_turns_events_leave_at_each_wait_and_the_last_with_the_end() -> None:
    async def run(emit: Emit) -> None:
        await emit("activity", {"text": "Adding..."})
        await anyio.wait_all_tasks_blocked()  # the tool runs: what was said leaves first
        for word in ("Coming ", "right ", "up."):
            await emit("delta", {"text": word})
        await emit("done", {"reply": "Coming right up."})

    sent, raised = _sent_by_turn_stream(run, linger_s=0)
    assert raised is None
    (first_more, first), (last_more, last) = _bodies(sent)
    assert first_more is True and first.count(b"event: ") == 1
    assert last_more is False  # the reply's words and "done" end the response
    assert last.count(b"event: delta") == 3 and b"event: done" in last


def test_a_turn_answered_within_the_linger_leaves_in_one_write_with_its_end() -> None:
    async def run(emit: Emit) -> None:
        await emit("activity", {"text": "Adding..."})
        await anyio.wait_all_tasks_blocked()  # a quick tool: waits, but not for long
        await emit("delta", {"text": "Coming right up."})
        await emit("done", {"reply": "Coming right up."})

    sent, raised = _sent_by_turn_stream(run, linger_s=60)
    assert raised is None
    [(more, body)] = _bodies(sent)
    assert more is False
    # Sent whole, as an ordinary response: its length, no chunked stream for a proxy.
    headers = dict(sent[0]["headers"])
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"x-accel-buffering" not in headers
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert [line for line in body.split(b"\n") if line.startswith(b"event: ")] == [
        b"event: activity",
        b"event: delta",
        b"event: done",
    ]


def test_a_turn_waiting_past_the_linger_sends_what_it_said_before_it_ends() -> None:
    sent_early = anyio.Event()

    def on_send(message: Message) -> None:
        if message.get("more_body"):
            sent_early.set()

    async def run(emit: Emit) -> None:
        await emit("activity", {"text": "Creating your payment link..."})
        # A slow tool: the words said before it leave once the linger is over, while
        # it still runs (a real wait of about 10 ms, bounded).
        with anyio.fail_after(5):
            await sent_early.wait()
        await emit("delta", {"text": "Here is your link."})
        await anyio.wait_all_tasks_blocked()  # past the linger, each wait sends at once
        await emit("done", {"reply": "Here is your link."})

    sent, raised = _sent_by_turn_stream(run, linger_s=0.01, on_send=on_send)
    assert raised is None
    headers = dict(sent[0]["headers"])
    assert b"content-length" not in headers  # streamed: its length is not known
    assert headers[b"x-accel-buffering"] == b"no"
    bodies = _bodies(sent)
    assert [more for more, _ in bodies] == [True, True, False]
    assert [body.split(b"\n", 1)[0] for _, body in bodies] == [
        b"event: activity",
        b"event: delta",
        b"event: done",
    ]


def test_a_turn_failing_while_its_events_are_sent_ends_after_that_send() -> None:
    sending = anyio.Event()
    release = anyio.Event()
    order: list[str] = []

    async def run(emit: Emit) -> None:
        await emit("delta", {"text": "Coming "})
        with anyio.fail_after(5):
            await sending.wait()  # the stream's task is in the middle of a send
        release.set()
        raise RuntimeError("a bug")

    async def main() -> tuple[list[Message], BaseException | None]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            if message.get("more_body"):
                sending.set()
                await release.wait()  # a slow client
            if message["type"] == "http.response.body":
                order.append("chunk" if message["more_body"] else "end")
            sent.append(message)

        async def receive() -> Message:
            return {"type": "http.disconnect"}

        before = asyncio.all_tasks()
        try:
            await TurnStream(run, linger_s=0)({"type": "http"}, receive, send)
        except RuntimeError as exc:
            failure: BaseException | None = exc
        else:
            failure = None
        assert asyncio.all_tasks() == before
        return sent, failure

    sent, raised = anyio.run(main)
    assert isinstance(raised, RuntimeError)
    assert order == ["chunk", "end"]  # the send under way finished before the end
    assert [more for more, _ in _bodies(sent)] == [True, False]


def test_the_end_carries_what_was_said_before_a_turn_failed() -> None:
    async def run(emit: Emit) -> None:
        await emit("delta", {"text": "Coming "})
        raise RuntimeError("a bug")

    sent, raised = _sent_by_turn_stream(run)
    assert raised is not None  # the bug is not swallowed ...
    assert [m.get("more_body") for m in sent[1:]] == [False]  # ... and the response ends
    assert b"Coming" in sent[-1]["body"]
