"""Two ``maya serve`` side by side, loaded in the same seconds: what one change costs or
saves a chat turn, measured as fairly as a shared, noisy machine allows.

``bench_load`` measures one server after another; on a shared machine whose speed drifts
by a fifth from one minute to the next, two such runs cannot tell code apart. This starts
two real ``maya serve`` processes at once (SQLite, one worker, the offline model and
sandbox each), one on this checkout's code and one on another tree's, and loads both at
once: ``ROUNDS`` rounds, each giving both servers the same ``SLICE_S`` seconds of ``GET
/healthz`` and then of chat turns from ``CONCURRENCY`` clients each, reading each
server's CPU per request from ``/proc`` (``bench_load``'s client and helpers). Whatever
the machine does in those seconds, it does to both. Run it on one tree first: the spread
between two identical servers is the smallest difference it can show (on a slow, shared
day: 0.99-1.12x; loading them in alternating slices instead gave 0.94-1.29x).

Usage::

    .venv/bin/python benchmarks/bench_compare.py              # this tree against itself
    .venv/bin/python benchmarks/bench_compare.py --against d3c363e

With no ``--against`` both servers run this checkout: the spread between them is the
method's own noise. ``--against REV`` checks ``REV`` out into a temporary git worktree
(removed after) and runs its ``src`` as the other server. About 35 s with the defaults.
Each figure is one JSON line ``{"metric": "compare.<side>.<figure>", ...}`` (sides
``this`` and ``other``), plus ``compare.turn_cpu_this_vs_other``: the median CPU per turn
of this tree over the other's (below 1: this tree is cheaper).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path

import anyio

import bench_load

ROUNDS = 6
SLICE_S = 1.5
ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def _tree(rev: str | None) -> Iterator[Path]:
    """The ``src`` of ``rev`` in a temporary worktree, or this checkout's without one."""
    if rev is None:
        yield ROOT / "src"
        return
    with tempfile.TemporaryDirectory(prefix="maya-bench-compare-") as tmp:
        where = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(where), rev],
            check=True,
        )
        try:
            yield where / "src"
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(where)],
                check=False,
            )


async def _measured(
    into: dict[str, tuple[float, float | None]],
    key: str,
    pid: int,
    measure: Callable[[str], Awaitable[tuple[float, int]]],
    base: str,
) -> None:
    into[key] = await bench_load.per_request(pid, measure, base)


async def compare(sources: dict[str, Path], rounds: int) -> dict[str, float]:
    """Run both servers side by side; the medians of each side's figures."""
    bench_load.BASELINE_S = bench_load.TURNS_S = SLICE_S
    seen: dict[str, dict[str, list[float]]] = {
        side: {"healthz_per_s": [], "turns_per_s": [], "healthz_cpu": [], "turn_cpu": []}
        for side in sources
    }
    async with AsyncExitStack() as stack:
        servers: dict[str, tuple[str, int]] = {}
        before = os.environ.get("PYTHONPATH")
        try:
            for side, src in sources.items():
                os.environ["PYTHONPATH"] = str(src)  # the server's code: its own tree
                servers[side] = await stack.enter_async_context(
                    bench_load.maya_serve("tabs.sqlite3", 1)
                )
        finally:
            if before is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = before
        for base, _ in servers.values():
            await bench_load.turns_per_s_warm(base)
            await bench_load.turns_per_s(base)  # a slice of warm-up each
        for round_ in range(rounds):
            # Both servers loaded in the same seconds: whatever the machine does then, it
            # does to both.
            got: dict[str, dict[str, tuple[float, float | None]]] = {s: {} for s in servers}
            for phase, measure in (
                ("healthz", bench_load.healthz_per_s),
                ("turns", bench_load.turns_per_s),
            ):
                async with anyio.create_task_group() as group:
                    for side, (base, pid) in servers.items():
                        group.start_soon(_measured, got[side], phase, pid, measure, base)
            for side in servers:
                (health, health_cpu), (turns, turn_cpu) = got[side]["healthz"], got[side]["turns"]
                figures = seen[side]
                figures["healthz_per_s"].append(health)
                figures["turns_per_s"].append(turns)
                if health_cpu is not None and turn_cpu is not None:
                    figures["healthz_cpu"].append(health_cpu)
                    figures["turn_cpu"].append(turn_cpu)
                print(
                    f"round {round_} {side:>5}: /healthz {health:6.0f}/s, turns {turns:5.0f}/s"
                    f" ({turns / health:.3f}); CPU per /healthz {health_cpu or 0:.3f} ms,"
                    f" per turn {turn_cpu or 0:.3f} ms",
                    flush=True,
                )
    medians: dict[str, float] = {}
    for side, figures in seen.items():
        medians[f"{side}.turns_vs_healthz"] = statistics.median(
            t / h for t, h in zip(figures["turns_per_s"], figures["healthz_per_s"], strict=True)
        )
        if figures["turn_cpu"]:
            medians[f"{side}.healthz_server_cpu_ms"] = statistics.median(figures["healthz_cpu"])
            medians[f"{side}.turn_server_cpu_ms"] = statistics.median(figures["turn_cpu"])
            medians[f"{side}.turn_in_healthz"] = statistics.median(
                t / h for t, h in zip(figures["turn_cpu"], figures["healthz_cpu"], strict=True)
            )
    if "this.turn_server_cpu_ms" in medians and "other.turn_server_cpu_ms" in medians:
        medians["turn_cpu_this_vs_other"] = (
            medians["this.turn_server_cpu_ms"] / medians["other.turn_server_cpu_ms"]
        )
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="the other server's git revision")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    started = time.perf_counter()
    with _tree(args.against) as other:
        sources = {"this": ROOT / "src", "other": other}
        medians = anyio.run(compare, sources, args.rounds)
    print(f"(ran in {time.perf_counter() - started:.1f} s; other = {args.against or 'this tree'})")
    for metric, value in medians.items():
        unit = "x" if "vs" in metric or "in_healthz" in metric else "ms"
        print(json.dumps({"metric": f"compare.{metric}", "value": round(value, 3), "unit": unit}))


if __name__ == "__main__":
    main()
