"""How fast the tools answer and what their declarations cost: ``python benchmarks/bench_tools.py``.

Dispatch p50/p99 of ``order_drink`` (memory, SQLite) and ``create_stripe_payment`` (sandbox);
declaration tokens (chars / 4) of the bar's set, ``PAYMENT_TOOLS`` and ``CATALOG_TOOLS``; and
``Toolset.callables`` against ``Toolset.call`` (ratio). A table, then one JSON line per figure.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
from google.genai import types

from maya.bar import load_menu
from maya.payments import StripeMCPClient
from maya.sandbox import MEMORY, SandboxStore, build_mcp_server
from maya.state import Catalog, MemoryTabStore, TabManager, TabStore, open_store
from maya.tools import CATALOG_TOOLS, PAYMENT_TOOLS, Toolset

PHASE_SECONDS = 5.0
ORDER_CALLS = {"memory": 5_000, "sqlite": 1_000}
PAYMENT_CALLS = 300
SESSION_LENGTH = 50
"""Orders per session before moving to a fresh one (a real evening's tab)."""


def _order_call() -> list[types.FunctionCall]:
    return [types.FunctionCall(id="c1", name="order_drink", args={"name": "Water"})]


async def _timed(
    run: Callable[[int], Awaitable[None]], prepare: Callable[[int], Awaitable[None]], limit: int
) -> list[float]:
    """Milliseconds of ``run(i)`` for i = 0, 1, ...; ``prepare(i)`` runs untimed first."""
    samples: list[float] = []
    deadline = time.perf_counter() + PHASE_SECONDS
    for i in range(limit):
        await prepare(i)
        started = time.perf_counter()
        await run(i)
        samples.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    return samples


def _percentile(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def _nothing(i: int) -> None:
    return None


def _catalog_manager() -> TabManager:
    catalog = Catalog(
        {"Espresso": "2.40", "Flat white": "3.20", "Croissant": "2.10"},
        merchant="Bean There",
        currency="eur",
    )
    return TabManager(MemoryTabStore(), catalog=catalog)


async def bench_callables(toolset: Toolset) -> tuple[float, float]:
    """p50 ms of one ``get_bill`` through ``Toolset.call`` and through its callable,
    interleaved so both see the same machine."""
    get_bill = {f.__name__: f for f in toolset.callables("bench")}["get_bill"]
    await toolset.call("order_item", {"name": "Espresso"}, "bench")
    via_call: list[float] = []
    via_callable: list[float] = []
    deadline = time.perf_counter() + PHASE_SECONDS
    for _ in range(3_000):
        started = time.perf_counter()
        await toolset.call("get_bill", {}, "bench")
        via_call.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await get_bill()
        via_callable.append((time.perf_counter() - started) * 1000)
        if time.perf_counter() > deadline:
            break
    return _percentile(via_call, 50), _percentile(via_callable, 50)


async def bench_orders(kind: str, store: TabStore) -> list[float]:
    """Latency of dispatching one ``order_drink`` call."""
    toolset = Toolset(
        manager=TabManager(store, catalog=load_menu()), payments=None, log_bodies=False
    )
    calls = _order_call()

    async def run(i: int) -> None:
        (part,) = await toolset.dispatch(calls, f"bench-{kind}-{i // SESSION_LENGTH}")
        response = part.function_response.response if part.function_response else None
        assert response is not None and response["status"] == "ok", response

    try:
        return await _timed(run, _nothing, ORDER_CALLS[kind])
    finally:
        await store.aclose()


async def bench_payment_links() -> list[float]:
    """Latency of dispatching one ``create_stripe_payment`` call against the sandbox."""
    with SandboxStore(MEMORY) as sandbox:
        server = build_mcp_server(sandbox, checkout_base_url="http://127.0.0.1:9")
        async with StripeMCPClient.in_memory(server) as client:
            toolset = Toolset(
                manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=client
            )
            create = [types.FunctionCall(id="p1", name="create_stripe_payment", args={})]

            async def prepare(i: int) -> None:
                await toolset.dispatch(_order_call(), f"pay-{i}")

            async def run(i: int) -> None:
                (part,) = await toolset.dispatch(create, f"pay-{i}")
                response = part.function_response.response if part.function_response else None
                assert response is not None and response["status"] == "ok", response
                assert response["result"]["is_simulated"] is False, response

            return await _timed(run, prepare, PAYMENT_CALLS)


async def main() -> None:
    """Run every phase and print the table and the JSON lines."""
    figures: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        stores: dict[str, TabStore] = {
            "memory": MemoryTabStore(),
            "sqlite": open_store(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"),
        }
        rows: list[tuple[str, int, float, float]] = []
        for kind, store in stores.items():
            samples = await bench_orders(kind, store)
            rows.append(
                (
                    f"order_drink ({kind})",
                    len(samples),
                    _percentile(samples, 50),
                    _percentile(samples, 99),
                )
            )
            figures.append((f"tools.order_dispatch_p50_ms.{kind}", rows[-1][2], "ms"))
            figures.append((f"tools.order_dispatch_p99_ms.{kind}", rows[-1][3], "ms"))
    samples = await bench_payment_links()
    rows.append(
        (
            "create_stripe_payment (sandbox)",
            len(samples),
            _percentile(samples, 50),
            _percentile(samples, 99),
        )
    )
    figures.append(("tools.create_payment_dispatch_p50_ms.sandbox", rows[-1][2], "ms"))
    figures.append(("tools.create_payment_dispatch_p99_ms.sandbox", rows[-1][3], "ms"))

    toolset = Toolset(manager=TabManager(MemoryTabStore(), catalog=load_menu()), payments=None)
    chars = toolset.declarations_chars
    figures.append(("tools.declarations_chars", chars, "chars"))
    figures.append(("tools.declarations_tokens_est", chars / 4, "tokens"))
    pair = Toolset(
        manager=TabManager(MemoryTabStore(), catalog=load_menu()),
        payments=None,
        tools=PAYMENT_TOOLS,
    )
    figures.append(("tools.payment_tools_tokens_est", pair.declarations_chars / 4, "tokens"))
    shop = Toolset(manager=_catalog_manager(), payments=None, tools=CATALOG_TOOLS)
    figures.append(("tools.catalog_tools_tokens_est", shop.declarations_chars / 4, "tokens"))
    via_call, via_callable = await bench_callables(shop)
    figures.append(("tools.call_get_bill_p50_ms", via_call, "ms"))
    figures.append(("tools.callable_get_bill_p50_ms", via_callable, "ms"))
    figures.append(("tools.callable_vs_call_ratio", via_callable / via_call, "ratio"))

    print(f"{'dispatch of one call':<34} {'calls':>6} {'p50 ms':>9} {'p99 ms':>9}")
    for name, count, p50, p99 in rows:
        print(f"{name:<34} {count:>6} {p50:>9.3f} {p99:>9.3f}")
    print(
        f"\n{len(toolset.declarations)} declarations: {chars} characters, "
        f"~{chars / 4:.0f} tokens on every model turn\n"
    )
    for metric, value, unit in figures:
        print(json.dumps({"metric": metric, "value": round(value, 4), "unit": unit}))


if __name__ == "__main__":
    anyio.run(main)
