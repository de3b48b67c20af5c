"""``maya serve``'s app in front of hostile clients: Host, nosniff, log lines, options."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from maya.bar import load_menu
from maya.cli import build_parser
from maya.server import create_app
from maya.server.command import options_of
from maya.server.context import ServeOptions
from maya.server.hosts import allowed_hosts_for, host_name
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore

SECRET = "whsec_" + "g" * 32


def _app(hosts: frozenset[str] | None) -> TestClient:
    app = create_app(
        TabManager(MemoryTabStore(), catalog=load_menu()),
        webhook_secret=SECRET,
        allowed_hosts=hosts,
    )
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_a_foreign_host_is_refused_with_421() -> None:
    with _app(allowed_hosts_for("127.0.0.1")) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz", headers={"Host": "localhost:8000"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "[::1]:8000"}).status_code == 200
        refused = client.get("/healthz", headers={"Host": "evil.example:8000"})
        assert refused.status_code == 421
        assert refused.headers["x-content-type-options"] == "nosniff"
        webhook = client.post("/stripe/webhook", headers={"Host": "evil.example"}, content=b"{}")
        assert webhook.status_code == 421


def test_an_allowed_host_is_answered_and_star_answers_any() -> None:
    with _app(allowed_hosts_for("127.0.0.1", ["bar.example"])) as client:
        assert client.get("/healthz", headers={"Host": "bar.example"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "BAR.example:443"}).status_code == 200
        assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 421
    with _app(allowed_hosts_for("0.0.0.0", ["*"])) as client:
        assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 200


def test_the_bound_address_is_a_host_but_a_wildcard_is_not() -> None:
    assert "10.1.2.3" in allowed_hosts_for("10.1.2.3")
    assert "0.0.0.0" not in allowed_hosts_for("0.0.0.0")
    assert host_name("[::1]:80") == "::1"
    assert host_name("Bar.Example:8000") == "bar.example"


def test_every_response_is_nosniff() -> None:
    with _app(allowed_hosts_for("127.0.0.1")) as client:
        for response in (
            client.get("/healthz"),
            client.get("/no-such-page"),
            client.get("/stripe/webhook"),  # 405
            client.post("/stripe/webhook", content=b"{}"),  # 400: no signature
        ):
            assert response.headers["x-content-type-options"] == "nosniff", response.status_code
        assert {
            client.get("/no-such-page").status_code,
            client.get("/stripe/webhook").status_code,
        } == {
            404,
            405,
        }


def test_a_cr_lf_in_the_path_cannot_forge_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="maya.server")
    with _app(None) as client:
        client.get("/x%0d%0a2026-01-01 INFO maya.server POST /stripe/webhook 200")
    lines = [r.getMessage() for r in caplog.records if r.name == "maya.server"]
    assert len(lines) == 1
    assert "\n" not in lines[0] and "\r" not in lines[0]
    assert "/x\\x0d\\x0a2026-01-01" in lines[0]


def test_serve_options_from_the_command_line() -> None:
    args = build_parser().parse_args(
        [
            "serve",
            "--allowed-host",
            "bar.example",
            "--allowed-host",
            "pub.example",
            "--secure-cookies",
            "--header-timeout",
            "2.5",
            "--keep-alive-timeout",
            "3",
            "--max-connections",
            "100",
            "--max-streams-per-session",
            "2",
            "--chat-turns-per-session",
            "5",
            "--chat-turns-per-client",
            "20",
            "--max-tool-calls",
            "7",
        ]
    )
    options = options_of(args)
    assert options == ServeOptions(
        allowed_hosts=("bar.example", "pub.example"),
        secure_cookies=True,
        header_timeout_s=2.5,
        keep_alive_s=3,
        max_connections=100,
        max_streams_per_session=2,
        chat_turns_per_session=5,
        chat_turns_per_client=20,
        max_tool_calls=7,
    )
    assert ServeOptions.from_json(options.to_json()) == options
    defaults = options_of(build_parser().parse_args(["serve"]))
    assert defaults.secure_cookies is None and defaults.allowed_hosts == ()


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "99999"])
def test_bad_timeouts_are_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--header-timeout", bad])
    assert "--header-timeout" in capsys.readouterr().err
