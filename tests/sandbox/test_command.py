"""``maya sandbox`` argument parsing and the parts of its entry points that need no server."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from maya.addresses import http_address
from maya.sandbox import CARD_SUCCESS, register
from maya.sandbox.command import default_db_path, run_pay, run_serve
from maya.sandbox.faults import FAULTS_ENV


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="maya")
    register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_serving_over_stdio_with_the_hosted_dialect_is_the_default() -> None:
    # Issue 8: the sandbox models today's hosted surface by default.
    args = _parse("sandbox")
    assert args.func is run_serve
    assert (args.dialect, args.checkout_port, args.faults) == ("hosted", 0, None)
    assert http_address(args, command="maya sandbox", port=0) is None


def test_options_work_before_and_after_the_word_serve() -> None:
    before = _parse("sandbox", "--dialect", "named", "--db", ":memory:", "--port", "9001", "serve")
    after = _parse("sandbox", "serve", "--host", "::1", "--port", "9000", "--faults", "latency=1")
    assert (before.func, before.dialect, before.db) == (run_serve, "named", ":memory:")
    assert http_address(before, command="maya sandbox", port=0) == ("127.0.0.1", 9001)
    assert (after.faults, after.dialect) == ("latency=1", "hosted")
    assert http_address(after, command="maya sandbox", port=0) == ("::1", 9000)


def test_http_alone_serves_http_on_loopback_and_the_remembered_port() -> None:
    args = _parse("sandbox", "--http")
    assert http_address(args, command="maya sandbox", port=0) == ("127.0.0.1", 0)


def test_the_old_http_host_port_still_works_with_one_deprecation_line() -> None:
    args = _parse("sandbox", "serve", "--http", "[::1]:9000")
    warned = io.StringIO()
    assert http_address(args, command="maya sandbox", port=0, warn=warned) == ("::1", 9000)
    assert warned.getvalue() == (
        "maya sandbox: --http HOST:PORT is deprecated; use --http --host ::1 --port 9000\n"
    )
    both = _parse("sandbox", "--http", "127.0.0.1:9000", "--port", "9001")
    with pytest.raises(ValueError, match="not --http HOST:PORT as well"):
        http_address(both, command="maya sandbox", port=0)


def test_pay_takes_a_url_and_defaults_to_the_paying_card() -> None:
    args = _parse("sandbox", "pay", "http://127.0.0.1:1/b/test_x")
    assert args.func is run_pay
    assert (args.url, args.card) == ("http://127.0.0.1:1/b/test_x", CARD_SUCCESS)


@pytest.mark.parametrize("value", ["8000", "host:port", "127.0.0.1:70000"])
def test_the_old_http_must_be_host_and_port(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse("sandbox", "--http", value)
    assert "HOST:PORT" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["http", "-1", "70000"])
def test_port_must_be_a_port(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse("sandbox", "--port", value)
    assert "a port is 0-65535" in capsys.readouterr().err


def test_the_database_defaults_to_the_environment_then_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MAYA_SANDBOX_DB", str(tmp_path / "x.sqlite3"))
    assert default_db_path() == str(tmp_path / "x.sqlite3")
    monkeypatch.delenv("MAYA_SANDBOX_DB")
    assert default_db_path().endswith("sandbox.sqlite3")


def test_a_bad_fault_spec_exits_2_before_serving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(FAULTS_ENV, "explode=1")
    assert run_serve(_parse("sandbox", "--db", ":memory:")) == 2
    assert "explode" in capsys.readouterr().err


def test_paying_an_unreachable_page_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parse("sandbox", "pay", "http://127.0.0.1:9/b/test_x", "--timeout", "2")
    assert run_pay(args) == 2
    assert "maya sandbox pay" in capsys.readouterr().err
