"""The page's routes through Starlette's test client.

Sessions, isolation between cookies, Origin checks, CSP, streaming.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.genai import types
from starlette.testclient import TestClient

from maya.agent.models.base import calls_response, text_response
from maya.bar import load_menu
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.testing import ScriptedModel
from maya.web.security import COOKIE_NAME, SECURE_COOKIE_NAME, session_of
from maya.web.views import activity_line, balance_level, safe_link

from .conftest import ORIGIN, make_app

POST = {"Origin": ORIGIN}


def events_of(body: str) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a server-sent event stream."""
    found: list[tuple[str, Any]] = []
    for block in body.split("\n\n"):
        name, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
        if data:
            found.append((name, json.loads(data)))
    return found


def test_the_page_gives_a_new_browser_an_unguessable_httponly_lax_cookie() -> None:
    with TestClient(make_app(), base_url=ORIGIN) as browser:
        response = browser.get("/")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    token = cookie.split(";")[0].split("=", 1)[1]
    assert len(token) == 66  # 256 random bits and their signature
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on the test server
    with TestClient(make_app(), base_url=ORIGIN) as other:
        assert other.get("/").headers["set-cookie"].split(";")[0] != cookie.split(";")[0]


def test_over_https_the_cookie_is_secure_and_host_prefixed() -> None:
    with TestClient(make_app(), base_url="https://bar.example") as browser:
        cookie = browser.get("/").headers["set-cookie"]
        assert "Secure" in cookie
        assert cookie.startswith(f"{SECURE_COOKIE_NAME}=")
        # The prefixed cookie is the session over https: the next page keeps it.
        assert "set-cookie" not in browser.get("/").headers
        assert browser.get("/api/tab").status_code == 200


def test_a_returning_browser_keeps_its_cookie(client: TestClient) -> None:
    assert "set-cookie" not in client.get("/").headers


def test_every_response_carries_a_csp_without_inline_script(client: TestClient) -> None:
    for response in (
        client.get("/"),
        client.get("/static/maya.js"),
        client.get("/api/tab"),
        client.post("/api/tip", json={"percent": 15}, headers={"Origin": "http://evil.example"}),
    ):
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "default-src 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"


def test_the_page_is_small_and_loads_nothing_from_the_network(client: TestClient) -> None:
    page = client.get("/").text
    script = client.get("/static/maya.js").text
    assert len(page.encode()) + len(script.encode()) < 40_000
    for text in (page, script):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
    assert "<script>" not in page  # only <script src=...>: no inline script
    assert page.count("<script") == 1
    assert page.count("<style>") == 1  # inlined: nothing holds the first paint
    assert 'rel="stylesheet"' not in page
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert client.get("/static/other.js").status_code == 404


def test_the_accessible_names_are_on_the_page(client: TestClient) -> None:
    page = client.get("/").text
    assert 'aria-label="Tab"' in page
    assert '<label for="message" class="visually-hidden">Message</label>' in page
    for name in (">Send<", ">10%<", ">15%<", ">20%<", ">Pay<", ">New tab<"):
        assert name in page
    # The conversation is a log (its messages a list inside it, not the log itself); the
    # overlay's one summary sentence and failures are polite status regions.
    assert '<div class="log" role="log" aria-label="Conversation"><ol id="log"></ol></div>' in page
    assert '<p id="announce" class="visually-hidden" role="status"></p>' in page
    assert '<p id="notice" class="notice" role="status"></p>' in page


def test_state_changing_requests_need_this_origin(client: TestClient) -> None:
    before = client.get("/api/tab").json()
    for path, body in (
        ("/api/tip", {"percent": 15}),
        ("/api/chat", {"message": "a martini"}),
        ("/api/pay", {}),
        ("/api/payment/check", {}),
        ("/api/new-tab", {}),
    ):
        for headers in ({"Origin": "http://evil.example"}, {}, {"Origin": "null"}):
            response = client.post(path, json=body, headers=headers)
            assert response.status_code == 403, (path, headers)
    assert client.get("/api/tab").json() == before


def test_an_allowed_origin_is_accepted() -> None:
    from maya.web import WebSettings

    app = make_app(settings=WebSettings(allowed_origins=("https://bar.example",)))
    with TestClient(app, base_url=ORIGIN) as browser:
        browser.get("/")
        browser.post("/api/chat", json={"message": "a beer"}, headers=POST)
        response = browser.post(
            "/api/tip", json={"percent": 10}, headers={"Origin": "https://bar.example"}
        )
        assert response.status_code == 200
        assert response.json()["tip_percent"] == 10


@pytest.mark.parametrize(
    ("scheme", "headers", "server", "allowed"),
    [
        ("http", {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}, None, True),
        ("https", {"host": "bar.example", "origin": "https://bar.example"}, None, True),
        ("https", {"host": "bar.example", "origin": "http://bar.example"}, None, False),
        ("http", {"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8001"}, None, False),
        # No Host header (HTTP/1.0): the server's own address, as Starlette's URL has it.
        ("http", {"origin": "http://10.0.0.5:8000"}, ("10.0.0.5", 8000), True),
        ("http", {"origin": "http://10.0.0.5"}, ("10.0.0.5", 80), True),
        ("http", {"origin": "http://10.0.0.5:8000"}, ("10.0.0.6", 8000), False),
        ("http", {"host": "127.0.0.1:8000"}, None, False),
    ],
)
def test_the_origin_is_this_servers_own(
    scheme: str, headers: dict[str, str], server: tuple[str, int] | None, allowed: bool
) -> None:
    from starlette.requests import Request

    from maya.web.security import origin_allowed

    scope = {
        "type": "http",
        "scheme": scheme,
        "method": "POST",
        "path": "/api/tip",
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "server": server,
    }
    request = Request(scope)
    assert origin_allowed(request, ()) is allowed
    # The same answer as the whole URL Starlette builds gives.
    own = f"{request.url.scheme}://{request.url.netloc}"
    assert allowed == (headers.get("origin") == own)


def test_without_a_cookie_nothing_is_read_or_changed() -> None:
    with TestClient(make_app(), base_url=ORIGIN) as stranger:
        assert stranger.get("/api/tab").status_code == 401
        assert stranger.get("/api/tab/events").status_code == 401
        assert stranger.post("/api/tip", json={"percent": 15}, headers=POST).status_code == 401
        assert stranger.post("/api/chat", json={"message": "hi"}, headers=POST).status_code == 401
        stranger.cookies.set(COOKIE_NAME, "not-a-real-token")
        assert stranger.get("/api/tab").status_code == 401


def test_the_chat_streams_activity_words_and_the_whole_reply(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "Two martinis please"}, headers=POST)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    events = events_of(response.text)
    names = [name for name, _ in events]
    assert names[0] == "activity"
    assert events[0][1]["text"] == "Adding 2 x Martini to your tab..."
    assert names.count("delta") == 1  # the offline model answers whole
    assert names[-1] == "done"
    done = events[-1][1]
    assert "".join(data["text"] for name, data in events if name == "delta") == done["reply"]
    assert "$26.00" in done["reply"]
    assert done["link"] is None
    assert client.get("/api/tab").json()["tab"] == "$26.00"


def test_bad_messages_are_refused_and_change_nothing(client: TestClient) -> None:
    for body in ({"message": ""}, {"message": "   "}, {"message": 5}, {}, {"message": "x" * 2001}):
        assert client.post("/api/chat", json=body, headers=POST).status_code == 400
    raw = client.post(
        "/api/chat", content=b"not json", headers={**POST, "Content-Type": "application/json"}
    )
    assert raw.status_code == 400
    big = client.post("/api/chat", json={"message": "x" * 20_000}, headers=POST)
    assert big.status_code == 413
    assert client.get("/api/tab").json()["version"] == 0


def test_tip_buttons_call_the_tip_rule_and_toggle(client: TestClient) -> None:
    client.post("/api/chat", json={"message": "a martini"}, headers=POST)
    view = client.post("/api/tip", json={"percent": 15}, headers=POST).json()
    assert (view["tip_percent"], view["tip"], view["total_due"]) == (15, "$1.95", "$14.95")
    view = client.post("/api/tip", json={"percent": 15}, headers=POST).json()
    assert (view["tip_percent"], view["tip"], view["total_due"]) == (None, "$0.00", "$13.00")
    for bad in (12, "15", True, None, 15.0, 15.5):  # 15.0 is no JSON integer either
        response = client.post("/api/tip", json={"percent": bad}, headers=POST)
        assert response.status_code == 400
    assert client.get("/api/tab").json()["tip_percent"] is None


def test_one_browser_never_sees_or_changes_anothers_tab() -> None:
    app = make_app()
    with TestClient(app, base_url=ORIGIN) as alice, TestClient(app, base_url=ORIGIN) as bob:
        alice.get("/")
        bob.get("/")
        alice.post("/api/chat", json={"message": "three martinis"}, headers=POST)
        alice.post("/api/tip", json={"percent": 20}, headers=POST)
        assert alice.get("/api/tab").json()["tab"] == "$39.00"
        bob_view = bob.get("/api/tab").json()
        assert (bob_view["tab"], bob_view["tip_percent"]) == ("$0.00", None)
        # Bob's actions land on Bob's tab only.
        bob.post("/api/tip", json={"percent": 10}, headers=POST)
        bob.post("/api/new-tab", headers=POST)
        alice_view = alice.get("/api/tab").json()
        assert (alice_view["tab"], alice_view["tip_percent"]) == ("$39.00", 20)
        # Nothing in what the page gets names a session or a token.
        assert "web-" not in json.dumps(alice_view)


def test_the_session_id_is_a_hash_not_the_token() -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    with TestClient(make_app(manager), base_url=ORIGIN) as browser:
        browser.get("/")
        token = browser.cookies[COOKIE_NAME]
        browser.post("/api/chat", json={"message": "a beer"}, headers=POST)
        stored = browser.portal.call(manager.store.session_ids)  # type: ignore[union-attr]
    assert stored == [session_of(token)]
    assert token not in stored[0]


def test_new_tab_starts_a_fresh_session_with_a_new_cookie(client: TestClient) -> None:
    client.post("/api/chat", json={"message": "a martini"}, headers=POST)
    old = client.cookies[COOKIE_NAME]
    response = client.post("/api/new-tab", headers=POST)
    assert response.status_code == 200
    assert response.json()["tab"] == "$0.00"
    assert response.json()["balance"] == "$1,000.00"
    assert client.cookies[COOKIE_NAME] != old
    assert "HttpOnly" in response.headers["set-cookie"]
    assert client.get("/api/tab").json()["tab"] == "$0.00"


def test_a_model_reply_with_html_goes_out_as_plain_data() -> None:
    model = ScriptedModel([text_response("<img src=x onerror=alert(1)> <b>Cheers</b>")])
    with TestClient(make_app(model=model), base_url=ORIGIN) as browser:
        browser.get("/")
        response = browser.post("/api/chat", json={"message": "<script>x</script>"}, headers=POST)
    done = events_of(response.text)[-1][1]
    assert done["reply"] == "<img src=x onerror=alert(1)> <b>Cheers</b>"


def test_a_link_in_the_models_words_is_not_a_payment_link() -> None:
    model = ScriptedModel([text_response("Pay here: https://buy.stripe.com/test_fake")])
    with TestClient(make_app(model=model), base_url=ORIGIN) as browser:
        browser.get("/")
        response = browser.post("/api/chat", json={"message": "pay"}, headers=POST)
    assert events_of(response.text)[-1][1]["link"] is None


def test_without_payments_pay_says_so_and_changes_no_money(client: TestClient) -> None:
    client.post("/api/chat", json={"message": "a martini"}, headers=POST)
    answer = client.post("/api/pay", headers=POST).json()
    assert answer["ok"] is False
    assert "card" in answer["message"]
    assert client.get("/api/tab").json()["tab"] == "$13.00"


def test_pay_with_nothing_due_says_so(client: TestClient) -> None:
    model_free = client.post("/api/pay", headers=POST).json()
    assert model_free["ok"] is False
    assert model_free["message"]


def test_a_second_message_while_maya_answers_is_refused() -> None:
    import anyio

    gate = anyio.Event()

    class SlowModel:
        name = "slow"

        async def generate(self, **_: Any) -> types.GenerateContentResponse:
            await gate.wait()
            return text_response("Here you go.")

    app = make_app(model=SlowModel())
    web = app.state.maya_web
    with TestClient(app, base_url=ORIGIN) as browser:
        browser.get("/")
        session = session_of(browser.cookies[COOKIE_NAME])
        web._busy.add(session)  # a turn of this session is running
        busy = browser.post("/api/chat", json={"message": "hello"}, headers=POST)
        assert busy.status_code == 409
        web._busy.discard(session)
        browser.portal.call(gate.set)
        assert browser.post("/api/chat", json={"message": "hi"}, headers=POST).status_code == 200


def test_a_tool_call_shows_what_it_does() -> None:
    model = ScriptedModel(
        [calls_response([("order_drink", {"name": "Martini"})]), text_response("Done.")]
    )
    with TestClient(make_app(model=model), base_url=ORIGIN) as browser:
        browser.get("/")
        events = events_of(
            browser.post("/api/chat", json={"message": "martini"}, headers=POST).text
        )
    assert ("activity", {"text": "Adding a Martini to your tab..."}) in events


def test_activity_lines_and_levels() -> None:
    assert activity_line("order_drink", {"name": "IPA", "quantity": 1}) == (
        "Adding an IPA to your tab..."
    )
    assert activity_line("set_tip", {"percent": 20}) == "Setting a 20% tip..."
    assert activity_line("mystery", {}) == "Working on it..."
    long = activity_line("order_drink", {"name": "x" * 500})
    assert len(long) < 80
    assert balance_level(5000) == "normal"
    assert balance_level(4999) == "low"
    assert balance_level(1) == "low"
    assert balance_level(0) == "empty"


@pytest.mark.parametrize(
    ("url", "simulated", "shown"),
    [
        ("https://buy.stripe.com/test_abc", False, True),
        ("http://127.0.0.1:8123/b/test_abc", False, True),
        ("https://buy.stripe.com/test_abc", True, False),
        ("javascript:alert(1)", False, False),
        ("http://buy.stripe.com/test_abc", False, False),
        ("https://buy.stripe.com.evil.example/x", False, False),
        ("https://user:pw@buy.stripe.com/x", False, False),
        (None, False, False),
    ],
)
def test_only_checked_links_are_shown(url: object, simulated: bool, shown: bool) -> None:
    hosts = frozenset({"buy.stripe.com", "checkout.stripe.com"})
    assert (safe_link(url, is_simulated=simulated, hosts=hosts) is not None) is shown


def test_a_server_mounts_the_page_from_its_context() -> None:
    from starlette.applications import Starlette

    from maya.server import ServeContext
    from maya.web import serve_routes

    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    context = ServeContext(manager=manager, payments=None, base_url=ORIGIN)
    app = Starlette(routes=serve_routes(context))
    with TestClient(app, base_url=ORIGIN) as browser:
        assert browser.get("/").status_code == 200
        browser.post("/api/tip", json={"percent": 10}, headers=POST)
        assert browser.get("/api/tab").json()["tip_percent"] == 10
        token = browser.cookies[COOKIE_NAME]
        state = browser.portal.call(manager.get, session_of(token))
    assert state.tip_percent == 10
