"""``maya mcp`` as a real process, over stdio and streamable HTTP, with the sandbox behind it.

Each server spawns the offline Stripe sandbox (no ``mcp.json`` in its working folder), and
links are paid by posting the sandbox's real checkout form over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import ServerCapabilities, ToolsCapability

from maya.mcp_server import TAB_META_KEY
from maya.sandbox import CARD_SUCCESS, apay_url
from maya.state import SqliteTabStore

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MAYA = str(Path(sys.executable).with_name("maya"))
_SERVING = re.compile(r"maya mcp: serving at (http://\S+/mcp)")
_STDIO_TAB = re.compile(r"maya mcp: serving over stdio; tab (\S+)")


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAYA_SANDBOX_")}
    env["MAYA_SANDBOX_DB"] = str(tmp_path / "sandbox.sqlite3")
    env.pop("MAYA_MCP_CONFIG", None)
    return env


def _result(call: Any) -> dict[str, Any]:
    assert isinstance(call.structured_content, dict), call
    return call.structured_content


async def _pay_and_settle(client: Client, **meta: Any) -> list[dict[str, Any]]:
    """Order, tip, make a link, pay it at its checkout page, check it: the five responses."""
    extra: dict[str, Any] = {"meta": meta} if meta else {}
    order = await client.call_tool("order_drink", {"name": "Negroni", "quantity": 2}, **extra)
    tip = await client.call_tool("set_tip", {"percent": 15}, **extra)
    link = await client.call_tool("create_stripe_payment", {}, **extra)
    paid = await apay_url(_result(link)["result"]["url"], CARD_SUCCESS)
    assert paid.paid, paid
    check = await client.call_tool("check_payment_status", {}, **extra)
    bill = await client.call_tool("get_bill", {}, **extra)
    return [_result(r) for r in (order, tip, link, check, bill)]


def _assert_settled(responses: list[dict[str, Any]]) -> None:
    order, tip, link, check, bill = responses
    assert order["result"]["tab_cents"] == 2200
    assert tip["result"]["total_due_cents"] == 2530
    assert link["result"]["amount_cents"] == 2530
    assert link["result"]["url"].startswith("http://127.0.0.1:")
    assert check["result"]["payment_status"] == "succeeded"
    assert bill["result"]["tab_cents"] == 0
    assert bill["result"]["payment"]["status"] == "completed"


@asynccontextmanager
async def _stdio(tmp_path: Path, name: str, *args: str) -> AsyncIterator[tuple[Client, str]]:
    params = StdioServerParameters(
        command=MAYA,
        args=["mcp", "--store", str(tmp_path / "tabs.sqlite3"), *args],
        env=_env(tmp_path),
        cwd=str(tmp_path),
    )
    with (tmp_path / f"{name}.stderr").open("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            errlog.seek(0)
            found = _STDIO_TAB.search(errlog.read())
            assert found, "maya mcp did not announce its tab"
            yield client, found.group(1)


async def test_stdio_order_tip_pay_check_and_two_connections_have_two_tabs(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(90):
        async with _stdio(tmp_path, "one") as (first, first_tab):
            tools = [t.name for t in (await first.list_tools()).tools]
            responses = await _pay_and_settle(first)
            async with _stdio(tmp_path, "two") as (second, second_tab):
                await second.call_tool("order_drink", {"name": "Water"})
                other = _result(await second.call_tool("get_bill", {}))
            bad = await first.call_tool("set_tip", {"percent": 12})
    assert {"get_menu", "order_drink", "create_stripe_payment"} <= set(tools)
    _assert_settled(responses)
    assert first_tab != second_tab
    assert other["result"]["tab_cents"] == 100
    assert [i["item"] for i in other["result"]["items"]] == ["Water"]
    assert bad.is_error and _result(bad)["error"] == "INVALID_TIP_PERCENTAGE"
    store = SqliteTabStore(tmp_path / "tabs.sqlite3")
    try:
        kept = await store.load(first_tab)
    finally:
        await store.aclose()
    assert kept is not None and kept.payment_status.value == "completed"


@asynccontextmanager
async def _http(tmp_path: Path, *args: str, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """``maya mcp --host HOST --port 0``; yields the URL it announced."""
    process: Process = await anyio.open_process(
        [MAYA, "mcp", "--host", host, "--port", "0", "--store", "memory://", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env=_env(tmp_path),
        cwd=str(tmp_path),
    )
    async with process, anyio.create_task_group() as tg:
        announced = anyio.Event()
        seen: list[str] = []
        url: list[str] = []

        async def drain() -> None:
            assert process.stderr is not None
            async for chunk in TextReceiveStream(process.stderr):
                seen.append(chunk)
                found = _SERVING.search("".join(seen))
                if found and not url:
                    url.append(found.group(1))
                    announced.set()

        tg.start_soon(drain)
        try:
            with anyio.fail_after(30):
                await announced.wait()
            yield url[0]
        finally:
            process.terminate()
            with anyio.fail_after(15):
                await process.wait()
            tg.cancel_scope.cancel()


async def test_http_serves_a_tab_per_mcp_session_and_by_handle(tmp_path: Path) -> None:
    with anyio.fail_after(90):
        async with _http(tmp_path) as url:
            assert re.match(r"http://127\.0\.0\.1:\d+/mcp$", url) and not url.endswith(":0/mcp")
            async with Client(url, mode="legacy") as first:
                responses = await _pay_and_settle(first)
                async with Client(url, mode="legacy") as second:
                    other = _result(await second.call_tool("get_bill", {}))
                    bad = await second.call_tool("order_drink", {"name": "IPA", "quantity": "2"})
                    switched = await first.call_tool("get_bill", {}, meta={TAB_META_KEY: "t-1"})
            async with Client(url) as stateless:
                orphan = await stateless.call_tool("get_bill", {})
                issued = (orphan.meta or {})[TAB_META_KEY]
                handle = await stateless.call_tool(
                    "order_drink", {"name": "Gin"}, meta={TAB_META_KEY: issued}
                )
                guessed = await stateless.call_tool("get_bill", {}, meta={TAB_META_KEY: "t-1"})
    _assert_settled(responses)
    assert other["result"]["tab_cents"] == 0
    assert bad.is_error and _result(bad)["error"] == "INVALID_ARGUMENTS"
    assert _result(bad)["retryable"] is True
    assert [f["field"] for f in _result(bad)["fields"]] == ["quantity"]
    assert _result(handle)["result"]["tab_cents"] == 800
    assert orphan.is_error and _result(orphan)["error"] == "INVALID_SESSION_ID"
    assert guessed.is_error and _result(guessed)["error"] == "INVALID_SESSION_ID"
    assert switched.is_error and "cannot switch" in _result(switched)["message"]


async def _refused_start(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(30):
        return await anyio.run_process(
            [MAYA, "mcp", "--store", "memory://", *args], check=False, env=_env(tmp_path)
        )


async def test_http_off_loopback_needs_a_token(tmp_path: Path) -> None:
    done = await _refused_start(tmp_path, "--host", "0.0.0.0")
    assert done.returncode == 2
    assert b"needs an auth token" in done.stderr
    short = await _refused_start(tmp_path, "--host", "0.0.0.0", "--token", "short")
    assert short.returncode == 2 and b"at least 16" in short.stderr


async def test_the_old_http_host_port_serves_with_one_deprecation_line(tmp_path: Path) -> None:
    command = [MAYA, "mcp", "--http", "127.0.0.1:0", "--store", "memory://"]
    seen = ""
    with anyio.fail_after(60):
        async with await anyio.open_process(
            command, stdin=subprocess.DEVNULL, env=_env(tmp_path), cwd=str(tmp_path)
        ) as process:
            assert process.stderr is not None
            try:
                async for chunk in TextReceiveStream(process.stderr):
                    seen += chunk
                    if _SERVING.search(seen):
                        break
            finally:
                process.terminate()
                await process.wait()
    deprecated = [line for line in seen.splitlines() if "deprecated" in line]
    assert deprecated == [
        "maya mcp: --http HOST:PORT is deprecated; use --http --host 127.0.0.1 --port 0"
    ]
    assert _SERVING.search(seen)
    both = await _refused_start(tmp_path, "--http", "127.0.0.1:0", "--port", "1")
    assert both.returncode == 2 and b"not --http HOST:PORT as well" in both.stderr


async def test_http_off_loopback_with_a_token_announces_its_bound_address(tmp_path: Path) -> None:
    token = "t0ken-" + "z" * 26
    with anyio.fail_after(90):
        async with _http(tmp_path, "--token", token, host="0.0.0.0") as url:
            assert re.match(r"http://0\.0\.0\.0:\d+/mcp$", url), url
            local = url.replace("0.0.0.0", "127.0.0.1")
            async with httpx.AsyncClient() as http:
                ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
                bare = await http.post(local, json=ping)
                wrong = await http.post(
                    local, json=ping, headers={"Authorization": f"Bearer {token[:-1]}x"}
                )
                right = await http.post(
                    local,
                    json=ping,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Accept": "application/json, text/event-stream",
                    },
                )
    assert bare.status_code == wrong.status_code == 401
    assert bare.headers["www-authenticate"].startswith("Bearer")
    assert right.status_code != 401
    assert token not in bare.text and token not in right.text


async def test_http_on_loopback_refuses_a_foreign_host(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with _http(tmp_path) as url, httpx.AsyncClient() as http:
            ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
            refused = await http.post(url, json=ping, headers={"Host": "evil.example"})
    assert refused.status_code == 421


async def test_http_with_a_named_session_shares_that_tab(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with _http(tmp_path, "--session", "table-7") as url:
            async with Client(url) as first:
                await first.call_tool("order_drink", {"name": "Rum"})
            async with Client(url, mode="legacy") as second:
                bill = _result(await second.call_tool("get_bill", {}))
    assert bill["result"]["tab_cents"] == 700


async def test_a_bad_session_id_is_refused_before_serving(tmp_path: Path) -> None:
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [MAYA, "mcp", "--session", "no spaces"], check=False, env=_env(tmp_path)
        )
    assert done.returncode == 2
    assert b"--session" in done.stderr


_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "1"},
    },
}


async def test_a_line_that_is_not_json_rpc_gets_an_error_with_a_null_id(tmp_path: Path) -> None:
    process: Process = await anyio.open_process(
        [MAYA, "mcp", "--store", "memory://"], env=_env(tmp_path), cwd=str(tmp_path)
    )
    async with process:
        assert process.stdin is not None and process.stdout is not None
        lines = b"this is not json\n" + b"[1, 2]\n" + json.dumps(_INITIALIZE).encode() + b"\n"
        with anyio.fail_after(30):
            await process.stdin.send(lines)
            answers: list[dict[str, Any]] = []
            buffer = b""
            async for chunk in process.stdout:
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    answers.append(json.loads(line))
                if len(answers) == 3:
                    break
        await process.stdin.aclose()
        with anyio.fail_after(15):
            await process.wait()
    assert [(a.get("id"), a.get("error", {}).get("code")) for a in answers] == [
        (None, -32700),
        (None, -32600),
        (1, None),
    ]
    assert answers[2]["result"]["serverInfo"]["name"] == "maya"


async def test_requests_read_before_stdin_closes_are_all_answered(tmp_path: Path) -> None:
    """A client that writes its calls and closes stdin (a pipe, a script) gets every answer
    before the server ends: a tool call's change is never kept with its answer lost."""
    store = tmp_path / "tabs.sqlite3"
    process: Process = await anyio.open_process(
        [MAYA, "mcp", "--store", str(store), "--session", "piped"],
        env=_env(tmp_path),
        cwd=str(tmp_path),
    )
    calls = [
        {
            "jsonrpc": "2.0",
            "id": 10 + n,
            "method": "tools/call",
            "params": {"name": "order_drink", "arguments": {"name": "Water", "quantity": 1}},
        }
        for n in range(3)
    ]
    lines = [_INITIALIZE, {"jsonrpc": "2.0", "method": "notifications/initialized"}, *calls]
    async with process:
        assert process.stdin is not None and process.stdout is not None
        with anyio.fail_after(60):
            await process.stdin.send(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
            await process.stdin.aclose()  # at once: the calls are still being served
            output = b"".join([chunk async for chunk in process.stdout])
            await process.wait()
    answers = {a.get("id"): a for a in map(json.loads, output.splitlines())}
    assert sorted(k for k in answers if k is not None) == [1, 10, 11, 12]
    assert all(answers[10 + n]["result"]["isError"] is False for n in range(3))
    async with SqliteTabStore(store) as tabs:
        kept = await tabs.load("piped")
    assert kept is not None and sum(item.quantity for item in kept.items) == 3


def _sse_messages(body: str) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:")]


async def test_a_cancelled_http_request_gets_no_response(tmp_path: Path) -> None:
    headers = {"Accept": "application/json, text/event-stream"}
    with anyio.fail_after(90):
        async with _http(tmp_path, "--session", "table-9") as url:
            async with Client(url, mode="legacy") as setup:
                await setup.call_tool("order_drink", {"name": "Gin"})
                await setup.call_tool("create_stripe_payment", {})
            async with httpx.AsyncClient(headers=headers, timeout=30) as http:
                opened = await http.post(url, json=_INITIALIZE)
                headers["mcp-session-id"] = opened.headers["mcp-session-id"]
                headers["mcp-protocol-version"] = "2025-06-18"
                initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
                await http.post(url, json=initialized, headers=headers)
                # An unpaid link is polled for seconds: long enough to cancel the check.
                check = {
                    "jsonrpc": "2.0",
                    "id": 7,
                    "method": "tools/call",
                    "params": {"name": "check_payment_status", "arguments": {}},
                }
                cancel = {
                    "jsonrpc": "2.0",
                    "method": "notifications/cancelled",
                    "params": {"requestId": 7, "reason": "the customer left"},
                }
                bodies: list[str] = []

                async def call_and_read() -> None:
                    async with http.stream("POST", url, json=check, headers=headers) as answer:
                        bodies.append("".join([text async for text in answer.aiter_text()]))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(call_and_read)
                    await anyio.sleep(1.0)
                    await http.post(url, json=cancel, headers=headers)
                ping = {"jsonrpc": "2.0", "id": 8, "method": "ping"}
                after = _sse_messages((await http.post(url, json=ping, headers=headers)).text)
    assert _sse_messages(bodies[0]) == []
    assert after == [{"jsonrpc": "2.0", "id": 8, "result": {}}]


async def test_http_states_only_tools_in_both_eras(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with (
            _http(tmp_path) as url,
            Client(url, mode="legacy") as handshake,
            Client(url) as stateless,
        ):
            eras = (handshake.protocol_version, stateless.protocol_version)
            found = [c.server_capabilities for c in (handshake, stateless)]
    assert eras[0] != eras[1]
    assert found[0] == found[1] == ServerCapabilities(tools=ToolsCapability(list_changed=False))
