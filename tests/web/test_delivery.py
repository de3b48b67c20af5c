"""How the page travels: compressed text (never the event streams), a turn's events in
few writes, its icon, its description, the inlined stylesheet's CSP hash, and the
session each tab reply names."""

from __future__ import annotations

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
) -> tuple[list[Message], BaseException | None]:
    """The ASGI messages a ``TurnStream`` running ``run`` sends, and what it raised."""
    sent: list[Message] = []
    raised: list[BaseException] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        try:
            await TurnStream(run)({"type": "http"}, receive, send)
        except BaseException as exc:
            raised.append(exc)

    anyio.run(main)
    return sent, raised[0] if raised else None


def test_a_turns_events_leave_in_one_write_per_wait_and_the_last_with_the_end() -> None:
    async def run(emit: Emit) -> None:
        await emit("activity", {"text": "Adding..."})
        await anyio.wait_all_tasks_blocked()  # the tool runs: what was said leaves first
        for word in ("Coming ", "right ", "up."):
            await emit("delta", {"text": word})
        await emit("done", {"reply": "Coming right up."})

    sent, raised = _sent_by_turn_stream(run)
    assert raised is None
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.body",
        "http.response.body",
    ]
    first, last = sent[1], sent[2]
    assert first["more_body"] is True and first["body"].count(b"event: ") == 1
    assert last["more_body"] is False  # the reply's words and "done" end the response
    assert last["body"].count(b"event: delta") == 3 and b"event: done" in last["body"]


def test_the_end_carries_what_was_said_before_a_turn_failed() -> None:
    async def run(emit: Emit) -> None:
        await emit("delta", {"text": "Coming "})
        raise RuntimeError("a bug")

    sent, raised = _sent_by_turn_stream(run)
    assert raised is not None  # the bug is not swallowed ...
    assert [m.get("more_body") for m in sent[1:]] == [False]  # ... and the response ends
    assert b"Coming" in sent[-1]["body"]
