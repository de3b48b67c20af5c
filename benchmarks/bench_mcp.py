"""How much the persistent MCP session saves, measured against the sandbox on this machine.

Run ``python benchmarks/bench_mcp.py`` (no setup; under a minute): a table and one JSON
line per figure, over stdio and HTTP, per dialect, with and without added latency.
"""

from __future__ import annotations

import json
import re
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from anyio.abc import Process
from mcp import Client, StdioServerParameters

from maya.payments import McpServerConfig, StripeMCPClient, sandbox_server_config
from maya.testing.client_calls import count_client_calls

__all__ = ["main"]

CALL = (
    "stripe_api_read",
    {"stripe_api_operation_id": "GetPaymentLinks", "parameters": {"limit": 1}},
)


def _unused_port() -> int:
    # For "the server is down": a port nothing listens on. Servers we start bind port 0.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_ANNOUNCED = re.compile(r"MCP at http://127\.0\.0\.1:(\d+)/mcp")


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def _time(action: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _persistent(target: Any, runs: int) -> list[float]:
    async with Client(target, cache=None) as client:
        await client.call_tool(*CALL)  # warm up
        return await _time(lambda: client.call_tool(*CALL), runs)


async def _session_per_call(make_target: Callable[[], Any], runs: int) -> list[float]:
    async def once() -> None:
        async with Client(make_target(), cache=None) as client:
            await client.call_tool(*CALL)

    return await _time(once, runs)


async def _announced_port(stderr: Path, process: Process) -> int:
    """The port an HTTP sandbox started on port 0 announced on stderr."""
    with anyio.fail_after(20):
        while not (found := _ANNOUNCED.search(await anyio.Path(stderr).read_text())):
            if process.returncode is not None:
                raise RuntimeError(f"the HTTP sandbox exited while starting (see {stderr})")
            await anyio.sleep(0.05)
    return int(found.group(1))


async def _create_p50(config: McpServerConfig, runs: int) -> list[float]:
    async with StripeMCPClient.from_config(config) as client:
        await client.create_payment_link(100, "warm-up", f"bench-warm-{time.time_ns()}")
        counter = iter(range(runs))
        return await _time(
            lambda: client.create_payment_link(
                1000, "Bench tab", f"bench-{time.time_ns()}-{next(counter)}"
            ),
            runs,
        )


async def _fallback(url: str) -> tuple[float, float]:
    config = McpServerConfig(name="down", transport="http", url=url)
    async with StripeMCPClient.from_config(config) as client:
        started = time.perf_counter()
        cold = await client.create_payment_link(1000, "Tab", "down-1")
        cold_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        cached = await client.create_payment_link(1000, "Tab", "down-2")
        cached_ms = (time.perf_counter() - started) * 1000
    assert cold.is_simulated and cached.is_simulated
    return cold_ms, cached_ms


DIALECTS = ("hosted", "generic", "named")
LATENCY_S = 0.15


async def _dialect_figures(db: Path, dialect: str, runs: int) -> list[tuple[str, float, str]]:
    config = sandbox_server_config(
        environ={},
        args=("--db", str(db), "--dialect", dialect, "--faults", f"latency={LATENCY_S}"),
    )
    async with StripeMCPClient.from_config(config) as client:
        calls = count_client_calls(client)
        await client.is_available()
        before = calls.count()
        await client.create_payment_link(100, "warm-up", f"bench-{dialect}-first-{time.time_ns()}")
        first_calls = calls.count() - before
        before = calls.count()
        counter = iter(range(runs))
        samples = await _time(
            lambda: client.create_payment_link(
                1000, "Bench tab", f"bench-{dialect}-{time.time_ns()}-{next(counter)}"
            ),
            runs,
        )
        per_link = (calls.count() - before) / runs
    return [
        (f"mcp.{dialect}.tool_calls_per_link", per_link, "calls"),
        (f"mcp.{dialect}.tool_calls_first_link", float(first_calls), "calls"),
        (f"mcp.{dialect}.create_payment_link_150ms_p50_ms", statistics.median(samples), "ms"),
    ]


async def _cold_start_first_link(db: Path) -> float:
    config = sandbox_server_config(environ={}, args=("--db", str(db)))
    started = time.perf_counter()
    async with StripeMCPClient.from_config(config) as client:
        link = await client.create_payment_link(1000, "Cold tab", f"bench-cold-{time.time_ns()}")
        elapsed = (time.perf_counter() - started) * 1000
    assert not link.is_simulated
    return elapsed


async def run() -> list[tuple[str, float, str]]:
    """Measure everything; returns ``(metric, value, unit)`` triples."""
    figures: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        # Raw calls use the generic tools (no account context to carry).
        stdio = StdioServerParameters(
            command=sys.executable,
            args=["-m", "maya.sandbox", "--db", str(db), "--dialect", "generic"],
        )
        persistent = await _persistent(stdio, 300)
        per_call = await _session_per_call(lambda: stdio, 5)
        figures += _call_figures("stdio", persistent, per_call)
        stdio_config = sandbox_server_config(environ={}, args=("--db", str(db)))
        figures.append(
            (
                "mcp.stdio.create_payment_link_p50_ms",
                statistics.median(await _create_p50(stdio_config, 30)),
                "ms",
            )
        )

        announcements = db.with_name("http-sandbox.stderr")
        with announcements.open("wb") as stderr:
            process = await anyio.open_process(
                [
                    sys.executable,
                    "-m",
                    "maya.sandbox",
                    "--http",
                    "--port",
                    "0",
                    "--db",
                    str(db),
                    "--dialect",
                    "generic",
                ],
                stderr=stderr,
            )
        try:
            port = await _announced_port(announcements, process)
            url = f"http://127.0.0.1:{port}/mcp"
            persistent = await _persistent(url, 300)
            per_call = await _session_per_call(lambda: url, 30)
            figures += _call_figures("http", persistent, per_call)
            http_config = McpServerConfig(name="sandbox-http", transport="http", url=url)
            figures.append(
                (
                    "mcp.http.create_payment_link_p50_ms",
                    statistics.median(await _create_p50(http_config, 30)),
                    "ms",
                )
            )
        finally:
            process.kill()
            await process.wait()

        for dialect in DIALECTS:
            figures += await _dialect_figures(db, dialect, 10)
        figures.append(
            ("mcp.stdio.cold_start_first_link_ms", await _cold_start_first_link(db), "ms")
        )

    cold, cached = await _fallback(f"http://127.0.0.1:{_unused_port()}/mcp")
    figures.append(("mcp.fallback.server_down_cold_ms", cold, "ms"))
    figures.append(("mcp.fallback.server_down_cached_ms", cached, "ms"))
    return figures


def _call_figures(
    transport: str, persistent: list[float], per_call: list[float]
) -> list[tuple[str, float, str]]:
    p50 = statistics.median(persistent)
    fresh_p50 = statistics.median(per_call)
    return [
        (f"mcp.{transport}.persistent_call_p50_ms", p50, "ms"),
        (f"mcp.{transport}.persistent_call_p99_ms", _percentile(persistent, 0.99), "ms"),
        (f"mcp.{transport}.session_per_call_p50_ms", fresh_p50, "ms"),
        (f"mcp.{transport}.session_per_call_p99_ms", _percentile(per_call, 0.99), "ms"),
        (f"mcp.{transport}.session_per_call_vs_persistent_ratio", fresh_p50 / p50, "x"),
    ]


def main() -> None:
    """Run the benchmark and print the table, then the JSON lines."""
    figures = anyio.run(run)
    width = max(len(name) for name, _, _ in figures)
    print(f"{'metric':<{width}}  {'value':>10}  unit")
    print("-" * (width + 18))
    for name, value, unit in figures:
        print(f"{name:<{width}}  {value:>10.2f}  {unit}")
    print()
    for name, value, unit in figures:
        print(json.dumps({"metric": name, "value": round(value, 3), "unit": unit}))


if __name__ == "__main__":
    main()
