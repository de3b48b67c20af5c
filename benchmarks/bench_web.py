"""The web page: a reply's first byte and end, the page's weight, how fast the overlay follows.

Figures (loopback only; the server is uvicorn on 127.0.0.1, port 0, in a thread of this
process with its own event loop; the clients run in the main thread, so both share one
interpreter and the figures are pessimistic):

- ``web.chat_first_byte_ms`` / ``web.chat_full_reply_ms``: one turn of the offline model
  through ``POST /api/chat`` (p50), and the full reply against ``Agent.respond`` called
  directly in the same run (``web.chat_full_reply_vs_direct``: what HTTP and SSE add);
- ``web.page_bytes``: the HTML (its stylesheet inlined) and the script, uncompressed;
- ``web.page_wire_bytes``: what the page's own files weigh on the wire (gzip, as a
  browser asks), with ``web.page_wire_vs_uncompressed`` against the same files plain;
- ``web.page_requests_on_load`` / ``web.lighthouse_mobile_tti_ms``: Lighthouse 12's mobile
  preset (simulated slow 4G, 4x CPU slowdown) on the page: requests it made while
  loading, and its time to interactive (skipped with a note where
  ``scripts/install-page-audit`` has not run);
- ``web.overlay_update_p50_ms`` / ``_p99_ms``: from a committed change (the manager's
  listener, on the server) to the ``tab`` event read by an SSE client;
- ``web.open_pages_p99_under_100ms``: the most open pages (one SSE stream each, each its
  own session) one worker holds while a change to every one of them in a burst still
  reaches every page with p99 under 100 ms (doubling 25, 50, 100, ... within the budget);
- ``web.cross_process_notify_p50_ms`` / ``_p99_ms``: PostgreSQL, orders committed by a
  second OS process reaching a ``TabManager.watch`` here (``LISTEN``/``NOTIFY``), with
  ``web.in_process_notify_p50_ms`` (a direct callback) and one PostgreSQL round trip
  (``SELECT 1``) as the baselines measured in the same run.

- ``web.chat_at_rate_limit_turns_per_s`` / ``_p99_ms``: chat turns from many sessions of
  one client, each session sending past its per-session limit back to back: requests
  answered per second (turns and 429s) and the p99 of the turns let through, with the
  same turns with the limits off in the same run (``web.chat_at_rate_limit_p99_vs_off``)
  and the p99 of a refusal (``web.chat_refused_p99_ms``);
- ``web.healthz_p99_ms_idle_1000`` / ``web.healthz_p99_ms_idle_none``: ``/healthz`` on
  ``maya serve``'s app and connection limits (header deadline, 900-connection cap) while
  1,000 idle connections are held open against it, and with none, in the same run
  (``web.healthz_p99_idle_1000_vs_none``). The file limit is raised for this process.

PostgreSQL comes from ``$MAYA_BENCH_POSTGRES_URL`` or ``$MAYA_TEST_POSTGRES_URL`` (else the
local server); without it those figures are skipped with a note.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import uvicorn

from maya.agent.loop import Agent
from maya.agent.models.offline import OfflineModel
from maya.bar import load_menu
from maya.server import create_app
from maya.server.connections import ConnectionLimits
from maya.signing import Signer
from maya.state.errors import StoreError
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.models import TabState
from maya.state.open import open_store
from maya.tools import Toolset
from maya.web import WebSettings, create_web_app
from maya.web.security import COOKIE_NAME, COOKIE_PURPOSE, session_of

TURNS = 30
OVERLAY_CHANGES = 60
PAGES_BUDGET_S = 20.0
MAX_PAGES = 1600
NOTIFY_ORDERS = 40
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
SECRET = b"bench-secret-" + b"x" * 32
SIGNER = Signer(SECRET, purpose=COOKIE_PURPOSE)
# The figures of the other benchmarks are not about the rate limits: they are off there.
NO_LIMITS = WebSettings(
    cookie_secret=SECRET,
    chat_turns_per_session=0,
    chat_turns_per_client=0,
    max_streams_per_session=MAX_PAGES,
)
LIMIT_SESSIONS = 8
LIMIT_PER_SESSION = 12  # maya serve's default per session and minute
LIMIT_EXTRA = 4  # turns each session sends past its limit
HEALTHZ_REQUESTS = 300
IDLE_CONNECTIONS = 1000


def new_token() -> str:
    """A browser token the benchmark's server accepts (signed with its secret)."""
    return SIGNER.issue()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = anyio.Event()

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self.listening.set()


class Bar:
    """The page served from a thread of its own; commits are timed on the server side."""

    def __init__(
        self,
        portal: anyio.from_thread.BlockingPortal,
        manager: TabManager,
        settings: WebSettings = NO_LIMITS,
    ) -> None:
        self.portal = portal
        self.manager = manager
        self.committed: dict[tuple[str, int], float] = {}
        manager.add_listener(self._on_change)
        self.app = create_web_app(
            manager=manager, payments=None, model=OfflineModel(), settings=settings
        )
        self.base_url = ""

    def _on_change(self, operation: str, before: TabState | None, after: TabState) -> None:
        self.committed[(after.session_id, after.version)] = time.perf_counter()

    async def order_each(self, sessions: list[str]) -> None:
        """On the server's loop: one order on each session, one after another."""

        async def all_of() -> None:
            for session in sessions:
                await self.manager.order(session, "Water")

        await anyio.to_thread.run_sync(self.portal.call, all_of)


@asynccontextmanager
async def serving(settings: WebSettings = NO_LIMITS) -> AsyncIterator[Bar]:
    with anyio.from_thread.start_blocking_portal() as portal:
        bar = Bar(portal, TabManager(MemoryTabStore(), catalog=load_menu()), settings)
        config = uvicorn.Config(
            bar.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off"
        )
        config.backlog = 4096
        server = _Server(config)
        future = portal.start_task_soon(server.serve)
        await anyio.to_thread.run_sync(portal.call, server.listening.wait)
        port = server.servers[0].sockets[0].getsockname()[1]
        bar.base_url = f"http://127.0.0.1:{port}"
        try:
            yield bar
        finally:
            server.should_exit = True
            server.force_exit = True
            await anyio.to_thread.run_sync(future.result, 10)


def browser(base_url: str, token: str, *, limits: int = 10) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"Origin": base_url},
        cookies={COOKIE_NAME: token},
        limits=httpx.Limits(max_connections=limits, max_keepalive_connections=limits),
        timeout=httpx.Timeout(30.0),
    )


async def bench_turns(bar: Bar) -> dict[str, float]:
    first: list[float] = []
    full: list[float] = []
    async with browser(bar.base_url, new_token()) as client:
        for turn in range(TURNS):
            # A new tab now and then keeps the balance from running out.
            if turn % 10 == 0:
                await client.post("/api/new-tab")
            started = time.perf_counter()
            async with client.stream("POST", "/api/chat", json={"message": "a beer"}) as r:
                seen_first = False
                async for _chunk in r.aiter_raw():
                    if not seen_first:
                        first.append((time.perf_counter() - started) * 1000)
                        seen_first = True
            full.append((time.perf_counter() - started) * 1000)
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    agent = Agent(model=OfflineModel(), toolset=Toolset(manager=manager, payments=None))
    direct: list[float] = []
    for turn in range(TURNS):
        started = time.perf_counter()
        await agent.respond(f"direct{turn // 10}", "a beer")
        direct.append((time.perf_counter() - started) * 1000)
    return {
        "chat_first_byte_ms": statistics.median(first),
        "chat_full_reply_ms": statistics.median(full),
        "chat_direct_turn_ms": statistics.median(direct),
        "chat_full_reply_vs_direct": statistics.median(full) / statistics.median(direct),
    }


async def page_weight(bar: Bar) -> int:
    async with browser(bar.base_url, new_token()) as client:
        sizes = [len((await client.get(path)).content) for path in ("/", "/static/maya.js")]
    return sum(sizes)


PAGE_FILES = ("/", "/static/maya.js", "/favicon.ico")
LIGHTHOUSE = (
    Path(__file__).resolve().parents[1] / ".cache/page-audit/node_modules/lighthouse/cli/index.js"
)
CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)


async def page_on_the_wire(bar: Bar) -> dict[str, float]:
    """The page's own files as a browser fetches them (gzip), against the same uncompressed."""
    wire = plain = 0
    async with browser(bar.base_url, new_token()) as client:
        for path in PAGE_FILES:
            # The body exactly as it crossed the socket, before httpx decodes it.
            async with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as r:
                wire += len(b"".join([chunk async for chunk in r.aiter_raw()]))
            plain += len((await client.get(path, headers={"Accept-Encoding": "identity"})).content)
    return {"page_wire_bytes": wire, "page_wire_vs_uncompressed": wire / plain}


async def lighthouse_mobile(bar: Bar, note: Callable[[str], None]) -> dict[str, float]:
    """Requests on load and time to interactive from one Lighthouse run, mobile preset."""
    node = shutil.which("node")
    chromium = os.environ.get("MAYA_TEST_CHROMIUM", "/usr/bin/chromium")
    present = [await anyio.Path(path).exists() for path in (LIGHTHOUSE, chromium)]
    if node is None or not all(present):
        note("lighthouse: node, .cache/page-audit (scripts/install-page-audit) or chromium")
        note("  missing: web.page_requests_on_load and web.lighthouse_mobile_tti_ms skipped")
        return {}
    args = [node, str(LIGHTHOUSE), bar.base_url + "/", "--quiet", "--output=json"]
    args += ["--output-path=stdout", "--only-categories=performance"]
    args += [f"--chrome-flags={CHROMIUM_FLAGS}"]
    with anyio.fail_after(120):
        done = await anyio.run_process(args, env={**os.environ, "CHROME_PATH": chromium})
    audits = json.loads(done.stdout)["audits"]
    return {
        "page_requests_on_load": len(audits["network-requests"]["details"]["items"]),
        "lighthouse_mobile_tti_ms": float(audits["interactive"]["numericValue"]),
    }


async def read_tabs(
    response: httpx.Response, session: str, arrivals: dict[tuple[str, int], float]
) -> None:
    """Record when each ``tab`` event of ``session`` arrives, by version."""
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            version = json.loads(line[6:])["version"]
            arrivals[(session, version)] = time.perf_counter()


async def open_pages(
    bar: Bar, count: int, arrivals: dict[tuple[str, int], float]
) -> tuple[list[str], Callable[[], Any]]:
    """``count`` open pages, each streaming its own session; returns sessions and a closer."""
    tokens = [new_token() for _ in range(count)]
    sessions = [session_of(t) for t in tokens]
    client = httpx.AsyncClient(
        base_url=bar.base_url,
        limits=httpx.Limits(max_connections=count + 5, max_keepalive_connections=count + 5),
        timeout=httpx.Timeout(60.0),
    )
    group = anyio.create_task_group()
    await group.__aenter__()
    opened = anyio.Semaphore(0)

    async def page(token: str, session: str) -> None:
        request = client.build_request("GET", "/api/tab/events", cookies={COOKIE_NAME: token})
        response = await client.send(request, stream=True)
        opened.release()
        try:
            await read_tabs(response, session, arrivals)
        finally:
            await response.aclose()

    for token, session in zip(tokens, sessions, strict=True):
        group.start_soon(page, token, session)
    with anyio.fail_after(60):
        for _ in range(count):
            await opened.acquire()
        # Every page has had its first (current) state.
        # Many reader tasks fill one dict: polling it is the short, obvious loop here.
        while sum(1 for s in sessions if (s, 0) in arrivals) < count:  # noqa: ASYNC110
            await anyio.sleep(0.01)

    async def close() -> None:
        group.cancel_scope.cancel()
        await group.__aexit__(None, None, None)
        await client.aclose()

    return sessions, close


async def delays_for(
    bar: Bar, sessions: list[str], arrivals: dict[tuple[str, int], float]
) -> list[float]:
    """Order once on every session (a burst); each page's delay from commit to its event."""
    versions = {s: max(v for (ss, v) in arrivals if ss == s) + 1 for s in sessions}
    await bar.order_each(sessions)
    with anyio.fail_after(60):
        while any((s, versions[s]) not in arrivals for s in sessions):  # noqa: ASYNC110
            await anyio.sleep(0.005)
    return [(arrivals[(s, versions[s])] - bar.committed[(s, versions[s])]) * 1000 for s in sessions]


async def bench_overlay(bar: Bar) -> dict[str, float]:
    arrivals: dict[tuple[str, int], float] = {}
    sessions, close = await open_pages(bar, 1, arrivals)
    delays: list[float] = []
    try:
        for _ in range(OVERLAY_CHANGES):
            delays += await delays_for(bar, sessions, arrivals)
    finally:
        await close()
    return {"overlay_update_p50_ms": pct(delays, 50), "overlay_update_p99_ms": pct(delays, 99)}


async def bench_pages(bar: Bar, note: Callable[[str], None]) -> dict[str, float]:
    held, p99_at_held = 0, 0.0
    failed: int | None = None
    started = time.perf_counter()
    count = 25
    while count <= MAX_PAGES and time.perf_counter() - started < PAGES_BUDGET_S:
        arrivals: dict[tuple[str, int], float] = {}
        sessions, close = await open_pages(bar, count, arrivals)
        try:
            delays = await delays_for(bar, sessions, arrivals)
        finally:
            await close()
        p99 = pct(delays, 99)
        note(f"  {count:5d} open pages: p50 {pct(delays, 50):7.2f} ms, p99 {p99:7.2f} ms")
        if p99 < 100:
            held, p99_at_held = count, p99
        else:
            failed = count
        if failed is None:
            count *= 2
        elif failed - held > max(25, held // 4):
            count = (held + failed) // 2  # narrow down between what held and what did not
        else:
            break
    return {"open_pages_p99_under_100ms": held, "open_pages_p99_ms_at_that": p99_at_held}


_WRITER = """
import json, sys, time, anyio
from maya.state.manager import TabManager
from maya.state.open import open_store
from maya.bar import load_menu

async def main(url, session, count):
    store = open_store(url)
    try:
        manager = TabManager(store, catalog=load_menu())
        await manager.get(session)
        print("ready", flush=True)
        sys.stdin.readline()
        for _ in range(count):
            state = await manager.order(session, "Water")
            print(json.dumps([state.version, time.monotonic()]), flush=True)
            await anyio.sleep(0.02)
    finally:
        await store.aclose()

anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]))
"""


async def bench_notify(note: Callable[[str], None]) -> dict[str, float]:
    base = (
        os.environ.get("MAYA_BENCH_POSTGRES_URL")
        or os.environ.get("MAYA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )
    schema = f"maya_bench_web_{uuid.uuid4().hex[:8]}"
    url = f"{base}{'&' if '?' in base else '?'}schema={schema}"
    store = open_store(url)
    try:
        manager = TabManager(store, catalog=load_menu())
        try:
            await manager.get("warm")
            await manager.order("warm", "Water")
        except StoreError as exc:
            note(f"PostgreSQL skipped: {exc.message}")
            return {}
        # Baseline: the same watch, changes made through this process's own manager.
        local: list[float] = []
        commits: dict[int, float] = {}
        manager.add_listener(
            lambda _op, _before, after: commits.__setitem__(after.version, time.perf_counter())
        )
        async with manager.watch("local") as updates:
            await updates.__anext__()
            for _ in range(NOTIFY_ORDERS):
                await manager.order("local", "Water")
                state = await updates.__anext__()
                local.append((time.perf_counter() - commits[state.version]) * 1000)
        # A baseline on the same server: one round trip (SELECT 1) on a connection of its own.
        import psycopg

        trips: list[float] = []
        async with await psycopg.AsyncConnection.connect(base, autocommit=True) as conn:
            for _ in range(NOTIFY_ORDERS):
                started = time.perf_counter()
                await conn.execute("SELECT 1")
                trips.append((time.perf_counter() - started) * 1000)
        # Across processes: another interpreter orders; this one listens.
        arrived: dict[int, float] = {}
        committed: dict[int, float] = {}
        # Started once, its pipes read in a worker thread: nothing blocks the loop.
        writer = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-c", _WRITER, url, "remote", str(NOTIFY_ORDERS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdin is not None and writer.stdout is not None
        try:
            async with manager.watch("remote") as updates:
                await updates.__anext__()
                line = await anyio.to_thread.run_sync(writer.stdout.readline)
                assert line.strip() == "ready", line
                writer.stdin.write("go\n")
                writer.stdin.flush()
                with anyio.fail_after(60):
                    while len(arrived) < NOTIFY_ORDERS:
                        state = await updates.__anext__()
                        arrived[state.version] = time.monotonic()
            for line in writer.stdout:
                version, at = json.loads(line)
                committed[version] = at
        finally:
            writer.wait(timeout=30)
        # Latest-wins may merge two quick commits into one event: count the ones seen.
        delays = [(arrived[v] - committed[v]) * 1000 for v in committed if v in arrived]
    finally:
        await store.aclose()
        import psycopg
        from psycopg import sql

        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
    return {
        "cross_process_notify_p50_ms": pct(delays, 50),
        "cross_process_notify_p99_ms": pct(delays, 99),
        "in_process_notify_p50_ms": pct(local, 50),
        "postgres_round_trip_p50_ms": pct(trips, 50),
        "cross_process_notify_vs_round_trip": pct(delays, 50) / pct(trips, 50),
    }


async def _turns_at_the_limit(settings: WebSettings) -> tuple[list[float], list[float], float]:
    """Every session sends past its limit; (accepted ms, refused ms, requests per second)."""
    accepted: list[float] = []
    refused: list[float] = []
    async with serving(settings) as bar:
        clients = [browser(bar.base_url, new_token()) for _ in range(LIMIT_SESSIONS)]

        async def session(client: httpx.AsyncClient) -> None:
            for _ in range(LIMIT_PER_SESSION + LIMIT_EXTRA):
                started = time.perf_counter()
                answer = await client.post("/api/chat", json={"message": "a water"})
                ms = (time.perf_counter() - started) * 1000
                (accepted if answer.status_code == 200 else refused).append(ms)

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for client in clients:
                group.start_soon(session, client)
        elapsed = time.perf_counter() - started
        for client in clients:
            await client.aclose()
    return accepted, refused, (len(accepted) + len(refused)) / elapsed


async def bench_rate_limit() -> dict[str, float]:
    limited = WebSettings(
        cookie_secret=SECRET,
        chat_turns_per_session=LIMIT_PER_SESSION,
        chat_turns_per_client=LIMIT_SESSIONS * LIMIT_PER_SESSION,
    )
    accepted, refused, rate = await _turns_at_the_limit(limited)
    free, _, free_rate = await _turns_at_the_limit(NO_LIMITS)
    assert len(accepted) == LIMIT_SESSIONS * LIMIT_PER_SESSION, len(accepted)
    assert len(refused) == LIMIT_SESSIONS * LIMIT_EXTRA, len(refused)
    return {
        "chat_at_rate_limit_turns_per_s": rate,
        "chat_at_rate_limit_p99_ms": pct(accepted, 99),
        "chat_limits_off_turns_per_s": free_rate,
        "chat_limits_off_p99_ms": pct(free, 99),
        "chat_at_rate_limit_p99_vs_off": pct(accepted, 99) / pct(free, 99),
        "chat_refused_p99_ms": pct(refused, 99),
    }


def _raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        ceiling = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


async def _healthz_times(client: httpx.AsyncClient) -> list[float]:
    times: list[float] = []
    for _ in range(HEALTHZ_REQUESTS):
        started = time.perf_counter()
        answer = await client.get("/healthz")
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.status_code
    return times


async def bench_idle_connections() -> dict[str, float]:
    """``/healthz`` with ``maya serve``'s app and limits: with no idle connections, then
    while 1,000 are held (past the 900-connection cap: the idlest make room)."""
    _raise_file_limit(4 * IDLE_CONNECTIONS)
    limits = ConnectionLimits()
    app = create_app(
        TabManager(MemoryTabStore(), catalog=load_menu()), webhook_secret="whsec_" + "b" * 32
    )
    with anyio.from_thread.start_blocking_portal() as portal:
        config = limits.config(
            app, host="127.0.0.1", port=0, log_level="critical", lifespan="off", backlog=4096
        )
        server = _Server(config)
        future = portal.start_task_soon(server.serve)
        await anyio.to_thread.run_sync(portal.call, server.listening.wait)
        port = server.servers[0].sockets[0].getsockname()[1]
        idle: list[socket.socket] = []
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for _ in range(50):  # warm: the first requests pay for imports and caches
                    await client.get("/healthz")
                # The baseline before and after the idle ones, so load drift on the
                # machine weighs on both figures alike.
                alone = await _healthz_times(client)
                for _ in range(IDLE_CONNECTIONS):
                    idle.append(socket.create_connection(("127.0.0.1", port)))
                # Let the server accept them all before measuring.
                await anyio.sleep(0.5)
                under_load = await _healthz_times(client)
                held = pct(under_load, 99)
                still_open = len(server.server_state.connections)
                for sock in idle:
                    sock.close()
                idle.clear()
                await anyio.sleep(0.5)
                alone += await _healthz_times(client)
        finally:
            for sock in idle:
                sock.close()
            server.should_exit = True
            server.force_exit = True
            await anyio.to_thread.run_sync(future.result, 10)
    baseline = pct(alone, 99)
    return {
        "healthz_p99_ms_idle_none": baseline,
        "healthz_p99_ms_idle_1000": held,
        "healthz_p99_idle_1000_vs_none": held / baseline,
        "healthz_p50_ms_idle_none": pct(alone, 50),
        "healthz_p50_ms_idle_1000": pct(under_load, 50),
        "connections_open_with_1000_idle": still_open,
    }


UNITS = {
    "_ms": "ms",
    "bytes": "B",
    "_vs_": "x",
    "pages_p99": "pages",
    "requests": "requests",
    "_per_s": "1/s",
}


def unit_of(metric: str) -> str:
    for marker, unit in UNITS.items():
        if marker in metric:
            return unit
    if metric.startswith("connections_"):
        return "connections"
    return "pages" if metric.startswith("open_pages") else ""


async def bench_all(note: Callable[[str], None]) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with serving() as bar:
        figures.update(await bench_turns(bar))
        figures["page_bytes"] = await page_weight(bar)
        figures.update(await page_on_the_wire(bar))
        figures.update(await lighthouse_mobile(bar, note))
        figures.update(await bench_overlay(bar))
        figures.update(await bench_pages(bar, note))
    figures.update(await bench_rate_limit())
    figures.update(await bench_idle_connections())
    figures.update(await bench_notify(note))
    return figures


def main() -> None:
    """Run the benchmark and print a table, then one JSON line per figure."""
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    notes: list[str] = []
    started = time.perf_counter()
    figures = anyio.run(bench_all, notes.append)
    for line in notes:
        print(line)
    print(f"{'metric':45s} {'value':>12s}")
    for metric, value in figures.items():
        print(f"{metric:45s} {value:12.3f} {unit_of(metric)}")
    print(f"(ran in {time.perf_counter() - started:.1f} s)")
    for metric, value in figures.items():
        print(
            json.dumps(
                {"metric": f"web.{metric}", "value": round(value, 3), "unit": unit_of(metric)}
            )
        )


if __name__ == "__main__":
    main()
