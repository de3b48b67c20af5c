"""Every ``maya`` command answers a user error with one line, exit status 2, no traceback.

Each case runs ``maya.cli.main`` in-process (the same code path as the console script)
with one kind of bad input; two cases also run the real ``maya`` process, where a
traceback would show, and ``-vv`` brings the traceback back.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import pytest

from maya.cli import build_parser, main

SECRET = "sk_live_51HsecretDoNotPrint0123456789"


@dataclass
class Case:
    """One bad input: the command line, the files and variables it needs, what to name."""

    argv: list[str]
    names: list[str]
    """What the one line must mention (the file, field or value that is wrong; ``{dir}``
    is the test's directory)."""
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)


def _config(servers: dict[str, object]) -> str:
    return json.dumps({"mcpServers": servers})


SANDBOX = {"command": sys.executable, "args": ["-m", "maya.sandbox"]}
CASES: dict[str, Case] = {
    "chat: malformed mcp.json": Case(
        ["chat", "--offline"],
        ["mcp.json"],
        env={"MAYA_MCP_CONFIG": "{dir}/mcp.json"},
        files={"mcp.json": '{"mcpServers": {"stripe": '},
    ),
    "chat: unset ${VAR}": Case(
        ["chat", "--offline"],
        ["MAYA_TEST_NOT_SET", "mcpServers.stripe"],
        env={"MAYA_MCP_CONFIG": "{dir}/mcp.json"},
        files={
            "mcp.json": _config(
                {"stripe": {"command": "npx", "args": ["--api-key=${MAYA_TEST_NOT_SET}"]}}
            )
        },
    ),
    "chat: unknown server name": Case(
        ["chat", "--offline"],
        ["'nowhere'"],
        env={"MAYA_MCP_CONFIG": "{dir}/mcp.json", "MAYA_MCP_SERVER": "nowhere"},
        files={"mcp.json": _config({"stripe": SANDBOX})},
    ),
    "chat: live key without opt-in": Case(
        ["chat", "--offline"],
        ["MAYA_ALLOW_LIVE", "stripe"],
        env={"MAYA_MCP_CONFIG": "{dir}/mcp.json"},
        files={
            "mcp.json": _config(
                {"stripe": {"command": "npx", "args": ["-y", "@stripe/mcp", f"--api-key={SECRET}"]}}
            )
        },
    ),
    "chat: unknown store scheme": Case(
        ["chat", "--offline", "--store", "redis://cache/0"], ["'redis'"]
    ),
    "chat: unusable store path": Case(
        ["chat", "--offline", "--store", "{dir}/notes.txt/tabs.db"],
        ["notes.txt/tabs.db"],
        files={"notes.txt": "a file, so no directory can be under it"},
    ),
    "chat: bad session id": Case(["chat", "--offline", "--session", "no spaces"], ["session"]),
    "chat: a directory as the store": Case(
        ["chat", "--offline", "--store", "{dir}"], ["'{dir}'", "unable to open", "it is a folder"]
    ),
    "chat: a store in a folder that does not exist": Case(
        ["chat", "--offline", "--store", "{dir}/new/tabs.db"],
        ["tabs.db", "unable to open", "its folder '{dir}/new' does not exist"],
    ),
    # serve and mcp refuse a store at start as chat does, not serve 503s from it.
    "serve: unusable store path": Case(
        ["serve", "--port", "0", "--store", "{dir}/notes.txt/tabs.db"],
        ["notes.txt/tabs.db"],
        files={"notes.txt": "a file, so no directory can be under it"},
    ),
    "serve: a directory as the store": Case(
        ["serve", "--port", "0", "--store", "{dir}"], ["'{dir}'", "unable to open"]
    ),
    "serve: a directory as the workers' store": Case(
        ["serve", "--port", "0", "--workers", "2", "--store", "{dir}"],
        ["'{dir}'", "unable to open"],
    ),
    "serve: a file that is not a database": Case(
        ["serve", "--port", "0", "--store", "{dir}/notes.txt"],
        ["notes.txt", "not a database"],
        files={"notes.txt": "not a database " * 100},
    ),
    "mcp: unusable store path": Case(
        ["mcp", "--store", "{dir}/notes.txt/tabs.db"],
        ["notes.txt/tabs.db"],
        files={"notes.txt": "a file, so no directory can be under it"},
    ),
    "mcp: a directory as the store": Case(
        ["mcp", "--store", "{dir}"], ["'{dir}'", "unable to open"]
    ),
    "mcp: a directory as the store over HTTP": Case(
        ["mcp", "--http", "--store", "{dir}"], ["'{dir}'", "unable to open"]
    ),
    "state show: bad session id": Case(
        ["state", "--store", "memory://", "show", "no spaces"], ["'no spaces'"]
    ),
    "state reset: bad session id": Case(
        ["state", "--store", "memory://", "reset", "../etc"], ["'../etc'"]
    ),
    "state show: unusable store path": Case(
        ["state", "--store", "{dir}/missing/tabs.db", "show", "s1"], ["missing/tabs.db"]
    ),
    "state reset: unusable store path": Case(
        ["state", "--store", "{dir}/notes.txt/tabs.db", "reset", "s1"],
        ["notes.txt/tabs.db"],
        files={"notes.txt": "a file, so no directory can be under it"},
    ),
    "state show: a file that is not a database": Case(
        ["state", "--store", "{dir}/notes.txt", "show", "s1"],
        ["notes.txt"],
        files={"notes.txt": "not a database " * 100},
    ),
    "state show: unknown store scheme": Case(
        ["state", "--store", "mysql://maya:hunter2@db/tabs", "show", "s1"],
        ["'mysql'", "maya:***@db"],
    ),
    "state demo: unknown store scheme": Case(["state", "--store", "ftp://x", "demo"], ["'ftp'"]),
    "state show: --store after the action": Case(
        ["state", "show", "s1", "--store", "mysql://maya:hunter2@db/tabs"],
        ["'mysql'", "maya:***@db"],
    ),
    "trace: missing file": Case(["trace", "{dir}/none.jsonl"], ["none.jsonl"]),
    "trace: page in a missing directory": Case(
        ["trace", "{dir}/t.jsonl", "--html", "{dir}/no/such/dir/t.html"],
        ["no/such/dir/t.html"],
        files={"t.jsonl": ""},
    ),
    "sandbox: bad fault spec": Case(["sandbox", "--faults", "latency=soon"], ["latency"]),
    "sandbox: a --db that is not a database": Case(
        ["sandbox", "--db", "{dir}/notes.txt"],
        ["notes.txt"],
        files={"notes.txt": "not a database " * 100},
    ),
    "demo: trace directory is a file": Case(
        ["demo", "--quiet"],
        ["notes.txt"],
        env={"MAYA_TRACE_DIR": "{dir}/notes.txt"},
        files={"notes.txt": "a file, not a directory"},
    ),
}


def _prepare(case: Case, directory: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(directory)  # no ./mcp.json or ./.kiro of the repository is found
    for name, text in case.files.items():
        (directory / name).write_text(text)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.format(dir=directory))
    return [arg.format(dir=directory) for arg in case.argv]


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("name", list(CASES))
def test_a_user_error_is_one_line_and_exit_status_2(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    argv = _prepare(case, tmp_path, monkeypatch)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    errors = _lines(captured.err)
    # `maya chat` reports a bad --session itself, on stdout, before saying anything else.
    if not errors and argv[0] == "chat":
        errors = _lines(captured.out)
    command = " ".join(["maya", *name.split(":")[0].split()])
    assert len(errors) == 1, captured
    line = errors[0]
    assert line.startswith(f"{command}: "), line
    for expected in case.names:
        assert expected.format(dir=tmp_path) in line, line
    everything = captured.out + captured.err
    assert "Traceback" not in everything
    assert SECRET not in everything and "hunter2" not in everything
    assert SECRET[len("sk_live_") :] not in everything


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_real_process_prints_one_line_and_a_traceback_only_with_vv(
    tmp_path: Path,
) -> None:
    store = tmp_path / "notes.txt"
    store.write_text("not a database " * 100)
    command = [sys.executable, "-m", "maya.cli"]
    args = ["state", "--store", str(store), "show", "s1"]
    with anyio.fail_after(60):
        quiet = await anyio.run_process([*command, *args], check=False)
        loud = await anyio.run_process([*command, "-vv", *args], check=False)
    assert quiet.returncode == 2 and loud.returncode == 2
    assert quiet.stdout == b""
    assert _lines(quiet.stderr.decode()) == [
        f"maya state show: SQLite database {str(store)!r} failed: file is not a database"
    ]
    assert b"Traceback" in loud.stderr
    assert _lines(loud.stderr.decode())[-1] == _lines(quiet.stderr.decode())[0]


def test_every_commands_help_is_its_text_and_nothing_stray() -> None:
    parser = build_parser()
    commands = next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    assert "serve" in commands.choices and "mcp" in commands.choices
    for name, command in commands.choices.items():
        lines = [line.strip() for line in command.format_help().splitlines()]
        assert not any(line and set(line) <= set("\"'") for line in lines), name


@pytest.mark.parametrize("command", [["serve"], ["mcp", "--http"], ["sandbox"]])
def test_a_port_already_taken_is_named_in_the_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAYA_SANDBOX_DB", str(tmp_path / "sandbox.sqlite3"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        store = [] if command == ["sandbox"] else ["--store", "memory://"]
        code = main([*command, "--port", str(port), *store])
    captured = capsys.readouterr()
    errors = _lines(captured.err)
    assert code == 2 and "Traceback" not in captured.err, captured
    # The last line (maya mcp has said which Stripe it uses before it binds).
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in errors[-1]


def test_conversations_alone_shows_its_own_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conversations"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: maya conversations") and "export-adk" in err


def test_verbose_after_the_command_counts_as_before() -> None:
    """'maya chat -v' was 'unrecognized arguments: -v' (-v only went before the command)."""
    parser = build_parser()
    assert parser.parse_args(["chat", "-v", "--offline"]).verbose_after == 1
    assert parser.parse_args(["-v", "state", "show", "-vv", "s"]).verbose_after == 2
    assert parser.parse_args(["-v", "demo"]).verbose == 1


def test_paying_a_link_whose_sandbox_is_gone_says_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert main(["sandbox", "pay", f"http://127.0.0.1:{port}/b/plink_x"]) == 2
    err = capsys.readouterr().err
    assert f"nothing answers at 127.0.0.1:{port}" in err and "maya sandbox --http" in err
