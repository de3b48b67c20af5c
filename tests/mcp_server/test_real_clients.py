"""``maya mcp`` driven by MCP clients nobody here wrote, installed from npm by
``scripts/install-mcp-clients``: the MCP Inspector CLI, the TypeScript SDK 1.x client and
the conformance suite. They check every structured result against the tool's
``outputSchema``, errors included, as the desktop and IDE hosts built on them do.

Conformance scenarios run (they apply to a tools-only server over streamable HTTP):
``server-initialize``, ``ping``, ``tools-list``, ``server-sse-multiple-streams`` and
``dns-rebinding-protection``. The rest do not apply: ``tools-call-*`` and
``json-schema-2020-12`` call fixture tools only the suite's reference server has
(``test_simple_text``, ``test_error_handling``...; Maya's own tools are called below);
``elicitation-*`` need a server that elicits; ``logging-set-level`` and
``completion-complete`` capabilities Maya does not offer; ``resources-*`` and ``prompts-*``
need resources and prompts (Maya has neither and says so); ``server-sse-polling`` needs
the ``test_reconnection`` fixture tool and resumable streams (an event store).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp_clients import SCRIPT, TS_SCRIPT, Clients, Step, clients
from test_mcp_process import MAYA, _env, _http

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CONFORMANCE_SCENARIOS = [
    "server-initialize",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
]


INSPECTOR_STEPS: list[Step] = [
    ("get_menu", {}, "ok"),
    ("get_menu", {"colour": "blue"}, "INVALID_ARGUMENTS"),
    ("get_balance", {}, "ok"),
    ("get_balance", {"tab": "x"}, "INVALID_ARGUMENTS"),
    ("cancel_last_order", {}, "NOTHING_TO_CANCEL"),
    ("create_stripe_payment", {}, "NOTHING_TO_PAY"),
    ("check_payment_status", {}, "PAYMENT_NOT_FOUND"),
    ("order_drink", {"name": "Unicorn"}, "UNKNOWN_ITEM"),
    ("order_drink", {"name": "Martini", "quantity": 2, "modifiers": ["gin"]}, "ok"),
    ("order_drink", {"name": "Water"}, "ok"),
    ("cancel_last_order", {}, "ok"),
    ("set_tip", {"percent": 17}, "INVALID_TIP_PERCENTAGE"),
    ("set_tip", {"percent": 15}, "ok"),
    ("remove_tip", {"percent": 15}, "INVALID_ARGUMENTS"),
    ("remove_tip", {}, "ok"),
    ("get_bill", {"all": True}, "INVALID_ARGUMENTS"),
    ("get_bill", {}, "ok"),
    ("create_stripe_payment", {"amount_cents": 100}, "INVALID_ARGUMENTS"),
    ("create_stripe_payment", {}, "ok"),
    ("check_payment_status", {"payment_id": "plink_nobody"}, "PAYMENT_NOT_FOUND"),
    ("check_payment_status", {}, "ok"),
]
"""Every tool, valid and refused, on one tab: one Inspector run (a new session) each."""


def _tool_args(args: dict[str, Any]) -> list[str]:
    pairs = [f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in args.items()]
    return ["--tool-arg", *pairs] if pairs else []


async def _run(
    command: list[str], found: Clients, tmp_path: Path, *, check: bool = False
) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(60):
        return await anyio.run_process(
            command, env=found.env(_env(tmp_path)), cwd=str(tmp_path), check=check
        )


def _stdio_target(tmp_path: Path) -> list[str]:
    # One tab kept in one file, so each Inspector run (a new process) continues the last.
    store = str(tmp_path / "tabs.sqlite3")
    return [MAYA, "mcp", "--store", store, "--session", "inspector-table"]


async def _inspector(
    found: Clients, tmp_path: Path, target: list[str], *args: str
) -> subprocess.CompletedProcess[bytes]:
    # A URL goes first (--tool-arg would take it for a pair); a command after "--" last.
    ordered = [*args, *target] if target[0] == "--" else [*target, *args]
    return await _run([str(found.node), str(found.inspector), "--cli", *ordered], found, tmp_path)


def _check_inspector_call(step: Step, done: subprocess.CompletedProcess[bytes]) -> None:
    expected = step[2]
    # Exit 5 is the Inspector's "the tool answered isError"; a result the Inspector
    # refused (e.g. not fitting the outputSchema) exits 1 with its own error instead.
    assert done.stdout, (step, done.stderr)
    content = json.loads(done.stdout)["structuredContent"]
    assert done.returncode == (0 if expected == "ok" else 5), (step, content, done.stderr)
    assert (content["status"] if expected == "ok" else content["error"]) == expected, step


@asynccontextmanager
async def _http_url(tmp_path: Path) -> AsyncIterator[str]:
    async with _http(tmp_path, "--session", "http-table") as url:
        yield url


async def test_inspector_strict_tools_list_is_clean_over_stdio_and_http(tmp_path: Path) -> None:
    found = clients()
    stdio = await _inspector(
        found, tmp_path, ["--", *_stdio_target(tmp_path)], "--method", "tools/list", "--strict"
    )
    async with _http_url(tmp_path) as url:
        http = await _inspector(found, tmp_path, [url], "--method", "tools/list", "--strict")
    for done in (stdio, http):
        assert done.returncode == 0, done.stderr
        # Without findings the Inspector prints no portability report at all.
        assert b"Warning" not in done.stderr and b"Error:" not in done.stderr, done.stderr
        names = [t["name"] for t in json.loads(done.stdout)["tools"]]
        assert "check_payment_status" in names


# Each Inspector run over stdio starts a fresh ``maya mcp`` (and its sandbox): a few calls
# here, every tool over HTTP below, and every call of SCRIPT by the TypeScript client.
STDIO_STEPS: list[Step] = [
    ("order_drink", {"name": "Unicorn"}, "UNKNOWN_ITEM"),
    ("order_drink", {"name": "Negroni", "quantity": 2}, "ok"),
    ("set_tip", {"percent": 17}, "INVALID_TIP_PERCENTAGE"),
    ("get_bill", {}, "ok"),
]


async def test_inspector_takes_results_and_refusals_over_stdio(tmp_path: Path) -> None:
    found = clients()
    for step in STDIO_STEPS:
        tool, args, _ = step
        call = ["--method", "tools/call", "--tool-name", tool, *_tool_args(args)]
        done = await _inspector(found, tmp_path, ["--", *_stdio_target(tmp_path)], *call)
        _check_inspector_call(step, done)


async def test_inspector_takes_every_tool_valid_and_refused_over_http(tmp_path: Path) -> None:
    found = clients()
    async with _http_url(tmp_path) as url:
        for step in INSPECTOR_STEPS:
            tool, args, _ = step
            call = ["--method", "tools/call", "--tool-name", tool, *_tool_args(args)]
            _check_inspector_call(step, await _inspector(found, tmp_path, [url], *call))


async def _ts_script(found: Clients, tmp_path: Path, target: dict[str, Any]) -> list[Any]:
    steps = [[tool, args] for tool, args, _ in SCRIPT] + [["no_such_tool", {}]]
    command = [str(found.node), str(TS_SCRIPT), json.dumps(target), "script", json.dumps(steps)]
    done = await _run(command, found, tmp_path)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _check_ts_answers(answers: list[Any]) -> None:
    listed, *calls, unknown = answers
    assert len(listed["tools"]) == 9
    for (tool, _, expected), answer in zip(SCRIPT, calls, strict=True):
        # accepted: the client checked the structured result against the outputSchema.
        assert answer["accepted"], (tool, answer)
        assert answer["outcome"] == expected, (tool, answer)
        assert answer["isError"] == (expected != "ok")
        assert json.loads(answer["text"])["status"] == ("ok" if expected == "ok" else "error")
    assert unknown == {
        "tool": "no_such_tool",
        "accepted": False,
        "code": -32602,
        "message": "MCP error -32602: Unknown tool: no_such_tool",
    }


async def test_typescript_sdk_client_takes_every_result_over_stdio(tmp_path: Path) -> None:
    found = clients()
    target = {"command": MAYA, "args": ["mcp", "--store", "memory://"], "cwd": str(tmp_path)}
    _check_ts_answers(await _ts_script(found, tmp_path, target))


async def test_typescript_sdk_client_takes_every_result_over_http(tmp_path: Path) -> None:
    found = clients()
    async with _http(tmp_path) as url:
        _check_ts_answers(await _ts_script(found, tmp_path, {"url": url}))


async def test_conformance_scenarios_for_a_tools_only_server_pass(tmp_path: Path) -> None:
    found = clients()
    summaries: dict[str, str] = {}
    async with _http(tmp_path) as url:
        for scenario in CONFORMANCE_SCENARIOS:
            command = [str(found.node), str(found.conformance), "server", "--url", url]
            done = await _run([*command, "--scenario", scenario], found, tmp_path)
            text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout.decode())
            summary = re.search(r"Passed: (\d+)/(\d+), (\d+) failed, (\d+) warnings", text)
            assert done.returncode == 0 and summary, (scenario, text, done.stderr)
            summaries[scenario] = summary.group(0)
    for scenario, summary in summaries.items():
        passed, total, failed, warnings = re.findall(r"\d+", summary)
        assert passed == total != "0" and failed == warnings == "0", (scenario, summary)


async def test_typescript_sdk_client_hears_nothing_for_a_request_it_cancelled(
    tmp_path: Path,
) -> None:
    found = clients()
    async with _http(tmp_path) as url:
        command = [str(found.node), str(TS_SCRIPT), json.dumps({"url": url}), "cancel", "800"]
        done = await _run(command, found, tmp_path)
    assert done.returncode == 0, done.stderr
    # The SDK's own -32800 answer would reach onerror as "an unknown message ID".
    assert json.loads(done.stdout) == {"aborted": True, "errors": [], "after": "ok"}
