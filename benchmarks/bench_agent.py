"""How long Maya takes for one customer turn without the model, and for the whole demo.

A turn is: one model step asking for ``order_drink``, the real tool and tab operation,
a second model step answering in words, history and tracing. The model is scripted, so
its time is nil and what is measured is Maya's own overhead, on the memory store and on
SQLite. Then ``maya demo`` runs end to end (sandbox subprocess included).

Prints a table, then one JSON line per figure:
``{"metric": "agent.turn_ms_p50.memory", "value": 1.2, "unit": "ms"}``.
Runs in well under a minute.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import anyio

from maya.agent import Agent, JsonlTracer
from maya.agent.demo import run_demo
from maya.agent.models import calls_response, text_response
from maya.bar import load_menu
from maya.state import TabManager, TabStore
from maya.state.open import open_store
from maya.testing import ScriptedModel
from maya.tools import Toolset

TURNS = 300
WARMUP = 20
TURNS_PER_SESSION = 20
"""A session's tab grows with every order; a new session every 20 turns keeps each tab the
size of a long evening rather than measuring an ever-longer one."""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def _turn_times(store: TabStore, trace_dir: Path) -> list[float]:
    manager = TabManager(store, catalog=load_menu())
    steps = []
    for n in range(WARMUP + TURNS):
        steps += [
            calls_response([("order_drink", {"name": "Water"})], start=n + 1),
            text_response("One Water."),
        ]
    agent = Agent(
        model=ScriptedModel(steps),
        toolset=Toolset(manager=manager, payments=None),
        manager=manager,
        tracer=JsonlTracer(trace_dir),
    )
    times: list[float] = []
    for n in range(WARMUP + TURNS):
        started = time.perf_counter()
        await agent.respond(f"bench-{n // TURNS_PER_SESSION}", "a water")
        if n >= WARMUP:
            times.append((time.perf_counter() - started) * 1000)
    agent.close()
    await store.aclose()
    return times


async def _measure() -> list[tuple[str, float, str]]:
    figures: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="maya-bench-") as folder:
        base = Path(folder)
        stores = {
            "memory": open_store("memory://"),
            "sqlite": open_store(str(base / "tabs.sqlite3")),
        }
        for name, store in stores.items():
            times = await _turn_times(store, base / f"traces-{name}")
            figures.append((f"agent.turn_ms_p50.{name}", statistics.median(times), "ms"))
            figures.append((f"agent.turn_ms_p95.{name}", _percentile(times, 0.95), "ms"))
    started = time.perf_counter()
    code = await run_demo(quiet=True, out=lambda _line: None)
    if code != 0:
        raise SystemExit("maya demo failed during the benchmark")
    figures.append(("agent.demo_s", time.perf_counter() - started, "s"))
    return figures


def main() -> None:
    """Measure and print the table and the JSON lines."""
    figures = anyio.run(_measure)
    print(f"{'metric':<28} {'value':>10}  unit")
    for metric, value, unit in figures:
        print(f"{metric:<28} {value:>10.3f}  {unit}")
    for metric, value, unit in figures:
        print(json.dumps({"metric": metric, "value": round(value, 3), "unit": unit}))


if __name__ == "__main__":
    main()
