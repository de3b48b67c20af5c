"""Maya over time, and what memory costs a turn: ``python benchmarks/bench_soak.py``.

It takes under a minute: a soak of 40 s. ``--seconds 180`` runs the three minutes CI's
soak runs (``tests/soak/test_soak.py``), for 3-4 minutes in all.

- **The soak** (``tests/soak/driver.py``, the same one CI runs): ``maya serve`` (offline:
  its own sandbox, whose signed webhooks settle the tabs) and ``maya mcp --http`` as real
  processes side by side for ``--seconds``, a new customer at each every ninth of it
  (4.4 s; 20 s in three minutes): a new tab, an order (by chat on the page, by tool calls
  over MCP), a real sandbox link paid at its checkout page, the settlement awaited (the
  page's tab stream; MCP status checks). Figures per server: customers, links made,
  settlements, errors, pay-to-settled p50 and p99, and the RSS of its whole process tree
  (server and sandbox, from /proc) a third of the way in and at the end, with their
  ratio.
- **Conversation memory per turn**: the offline agent answers 10 sessions of 20 turns
  each (an order, then "what's my tab?") with its conversations kept in the tab store
  (SQLite, then PostgreSQL), against the same turns with a store that remembers nothing
  (baseline, same run, interleaved). Figures: ms per turn both ways and their ratio, and
  the ms of loading and saving the conversation itself.

PostgreSQL runs against ``$MAYA_BENCH_POSTGRES_URL``, else ``$MAYA_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test`` (skipped with a note when it does not
answer), in a schema of its own, dropped afterwards. Output: a table, then one JSON line
per figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
from google.genai import types

from _postgres import drop_schema, postgres_answers, postgres_url
from maya.agent import Agent, ConversationHistory, OfflineModel
from maya.bar import load_menu
from maya.state import Conversation, ConversationBounds, TabManager
from maya.state.open import open_store
from maya.tools import Toolset

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
# The soak driver lives with the test that runs it in CI (tests/soak).
from soak.driver import soak_serve_and_mcp

DURATION_S = 40.0
SESSIONS = 10
TURNS = 20

figures: list[dict[str, Any]] = []
rows: list[tuple[str, str]] = []


def report(metric: str, value: float, unit: str) -> None:
    figures.append({"metric": metric, "value": round(value, 3), "unit": unit})
    rows.append((metric, f"{value:,.3f} {unit}"))


async def soak(workdir: Path, seconds: float) -> None:
    web, mcp = await soak_serve_and_mcp(workdir, duration_s=seconds, every_s=seconds / 9)
    for found in (web, mcp):
        name = f"soak.{found.name}"
        report(f"{name}.customers", found.customers, "customers")
        report(f"{name}.links", found.links, "links")
        report(f"{name}.settled", found.settled, "settlements")
        report(f"{name}.errors", len(found.errors), "errors")
        report(f"{name}.pay_to_settled_p50", found.percentile(0.5) * 1000, "ms")
        report(f"{name}.pay_to_settled_p99", found.percentile(0.99) * 1000, "ms")
        report(f"{name}.rss_sampled", found.rss_sampled / 2**20, "MiB")
        report(f"{name}.rss_end", found.rss_end / 2**20, "MiB")
        report(f"{name}.rss_end_over_sampled", found.rss_ratio, "ratio")
        for error in found.errors:
            print(error)


class _Forgetful:
    """A conversation store that keeps nothing: the turn without memory (the baseline)."""

    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        return Conversation()

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        return None


class _Timed(ConversationHistory):
    """Conversation memory that adds up the time spent loading and saving it."""

    spent_s = 0.0

    async def load(self, session_id: str) -> tuple[list[types.Content], int]:
        started = time.perf_counter()
        try:
            return await super().load(session_id)
        finally:
            self.spent_s += time.perf_counter() - started

    async def append_turn(self, session_id: str, turn: Iterable[types.Content]) -> None:
        started = time.perf_counter()
        try:
            await super().append_turn(session_id, turn)
        finally:
            self.spent_s += time.perf_counter() - started


async def turn_overhead(kind: str, url: str) -> None:
    store = open_store(url)
    try:
        manager = TabManager(store, catalog=load_menu())
        toolset = Toolset(manager=manager, payments=None)
        remembering = _Timed.of(store)
        assert isinstance(remembering, _Timed)
        with_memory = Agent(
            model=OfflineModel(), toolset=toolset, manager=manager, history=remembering
        )
        without = Agent(
            model=OfflineModel(),
            toolset=toolset,
            manager=manager,
            history=ConversationHistory(_Forgetful()),
        )
        await with_memory.respond("warm-up", "a water please")  # opens the store
        timings: dict[str, list[float]] = {"with": [], "without": []}
        for session in range(SESSIONS):
            for turn in range(TURNS):
                message = "a water please" if turn % 2 == 0 else "what's my tab?"
                for label, agent in (("with", with_memory), ("without", without)):
                    started = time.perf_counter()
                    await agent.respond(f"{label}-{session}", message)
                    timings[label].append(time.perf_counter() - started)
        with_ms = statistics.mean(timings["with"]) * 1000
        without_ms = statistics.mean(timings["without"]) * 1000
        turns = SESSIONS * TURNS
        report(f"memory.{kind}.turn_ms", with_ms, "ms")
        report(f"memory.{kind}.turn_ms_without_memory", without_ms, "ms")
        report(f"memory.{kind}.turn_ratio", with_ms / without_ms, "ratio")
        report(
            f"memory.{kind}.load_and_save_ms",
            remembering.spent_s / (turns + 1) * 1000,
            "ms",
        )
    finally:
        await store.aclose()


async def main(seconds: float) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="maya-bench-soak-") as folder:
        workdir = Path(folder)
        await turn_overhead("sqlite", f"sqlite:///{workdir / 'memory.sqlite3'}")
        pg = postgres_url()
        if postgres_answers(pg):
            schema = f"maya_bench_{uuid.uuid4().hex[:8]}"
            try:
                await turn_overhead("postgres", f"{pg}{'&' if '?' in pg else '?'}schema={schema}")
            finally:
                drop_schema(pg, schema)
        else:
            print("PostgreSQL did not answer: its figures are skipped")
        await soak(workdir, seconds)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for figure in figures:
        print(json.dumps(figure))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=DURATION_S,
        help=f"how long the soak runs (default {DURATION_S:.0f}; CI's soak: 180)",
    )
    chosen = parser.parse_args().seconds
    if not chosen >= 20:
        parser.error("--seconds must be at least 20 (a customer every ninth of it)")
    anyio.run(main, chosen)
