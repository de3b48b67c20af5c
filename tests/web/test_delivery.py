"""How the page travels: compressed text (never the event streams), its icon, its
description, the inlined stylesheet's CSP hash, and the session each tab reply names."""

from __future__ import annotations

import base64
import hashlib
import re
from importlib import resources

from starlette.testclient import TestClient

from maya.web.security import session_of

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
    assert {"/", "/static/{name}", "/api/tab", "/api/tip", "/api/pay", "/api/new-tab"} <= wrapped


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
