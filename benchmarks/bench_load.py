"""Simulated browsers against a real ``maya serve``: throughput, latency, errors, how many held.

Up to three servers, named on the command line and loaded one after another, each a real
``maya serve`` process (``--port 0``, the offline sandbox it starts itself, the offline
model): ``sqlite_1w``, SQLite with one worker (the default, alone), then
``postgres_1w`` and ``postgres_2w``, PostgreSQL with one and with two workers
(``$MAYA_BENCH_POSTGRES_URL`` or ``$MAYA_TEST_POSTGRES_URL``, else the local server; a
schema of its own, dropped after); ``all`` loads the three. The load runs in this
process, on the same two cores as the server, so the figures are pessimistic; each
browser has its own cookie and its own connections, spoken through the lean client in
``_browser_http.py`` (httpx cost more CPU per request than the server itself, and one
shared pool of hundreds of connections is scanned on every request).

For each server:

- ``healthz_per_s``: ``GET /healthz`` back to back from ``CONCURRENCY`` clients for
  ``BASELINE_S`` seconds: the server's own baseline, measured in the same run;
- ``turns_per_s``: chat turns (``POST /api/chat`` "a beer", the whole streamed reply)
  back to back from the same ``CONCURRENCY`` clients for ``TURNS_S`` seconds, and
  ``turns_vs_healthz`` (goal: >= 0.2 on one SQLite worker). The two alternate in
  ``ROUNDS`` rounds (a slice of each per round), so a shared machine slowing down or
  speeding up meanwhile weighs on both alike; each rate is pooled over its slices, and
  ``turns_vs_healthz_min`` / ``_max`` are the rounds' own ratios, the noise to read the
  pooled one against;
- ``healthz_server_cpu_ms`` and ``turn_server_cpu_ms``: the CPU the server's processes
  spent (``/proc``, user and system, every thread and worker) per ``/healthz`` and per
  turn in those two phases, and ``turn_in_healthz``, their quotient: what the ratio comes
  from, and less noisy than rates on a shared machine (0.2 needs at most 5);
- a ramp of ``STEPS`` browsers (stopped at the first step that fails), each browser
  started within ``RAMP_S`` seconds and doing the whole flow with ``THINK_S`` between
  actions: the page (``GET /`` with its cookie), the overlay stream held open
  (``GET /api/tab/events``), two chat turns, a 15% tip, Pay, paying the link at the
  sandbox's checkout with the 4242 card, and waiting until its overlay shows the payment
  ``completed`` (settled by the sandbox's webhook event; at most ``SETTLE_S``). Per step:
  chat p99, pay-to-settled p99 (Pay pressed to the overlay showing it settled), errors
  (any non-2xx, broken stream, timeout or unsettled payment) and simulated links (a
  paused or overloaded sandbox). ``held_n`` is the largest step with chat p99 under 1 s
  and no errors (goal: >= 400 on two cores).

First, ``app.healthz_cpu_ms`` and ``app.turn_cpu_ms``: the same app (``maya serve``'s,
with the page) on a SQLite file, called in this process with no socket or HTTP in between,
its event loop's CPU per ``/healthz`` and per chat turn ("a beer"). A ``/healthz`` through
uvicorn is almost all HTTP and socket, which a turn pays too, so a turn can reach at most
``sqlite_1w.turns_vs_healthz_ceiling`` = ``1 / (1 + turn_cpu * healthz_per_s)`` of
``/healthz``'s rate, whatever its HTTP, stream and store thread cost.

Durations: per server, a start (a few seconds), ``WARM_S`` (1.5 s) of untimed turns (a
running server's steady state is measured, not its first seconds), 2 s of baseline and
3 s of turns in four rounds, then at most four steps (100, 200, 400, 600 browsers), each
``RAMP_S`` (3 s) of arrivals plus the flow (five actions ``THINK_S`` = 1 s apart, then the
settlement): about 9 s a step, cut at ``STEP_BUDGET_S``; the ramp stops at the first step
that fails.
About 35-45 s per server, so each server named is a run of under a minute (``all``:
about two minutes). The baseline is as fast as this process's client can
ask on the shared cores, so ``turns_vs_healthz`` is a ratio of two client-driven rates
measured the same way. Each figure is printed as one JSON line
``{"metric": "load.<server>.<figure>", ...}``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread

from _browser_http import Connection, HttpError, Reply
from maya.signing import SERVER_SECRET_ENV, Signer
from maya.web.security import COOKIE_NAME, COOKIE_PURPOSE, new_token

# The server signs its cookies with this secret, so the simulated browsers' cookies are
# ones it issued (a made-up cookie would just be given a fresh session).
SECRET = "bench-load-secret-" + "x" * 32
SIGNER = Signer(SECRET.encode(), purpose=COOKIE_PURPOSE)

STEPS = (100, 200, 400, 600)
CONCURRENCY = 32
BASELINE_S = 2.0
TURNS_S = 3.0
ROUNDS = 4
WARM_S = 1.5
RAMP_S = 3.0
THINK_S = 1.0
SETTLE_S = 20.0
STEP_BUDGET_S = 30.0
CARD = "4242424242424242"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _clean_env(directory: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAYA_", "STRIPE_")) and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    }
    env["MAYA_SANDBOX_DB"] = str(directory / "sandbox.sqlite3")
    env["MAYA_FORBID_REAL_MODEL"] = "1"
    env[SERVER_SECRET_ENV] = SECRET
    return env


@asynccontextmanager
async def maya_serve(store: str, workers: int) -> AsyncIterator[tuple[str, int]]:
    """A ``maya serve`` process on port 0; yields its base URL and process id."""
    with tempfile.TemporaryDirectory(prefix="maya-bench-load-") as tmp:
        directory = Path(tmp)
        log = (directory / "serve.log").open("w")
        # Started once, its stdout read in a worker thread: nothing blocks the loop.
        process = subprocess.Popen(  # noqa: ASYNC220
            [
                sys.executable,
                "-m",
                "maya.cli",
                "serve",
                "--port",
                "0",
                "--store",
                store,
                "--workers",
                str(workers),
                # Capacity, not the spend limits, is measured: every browser is on
                # 127.0.0.1, so the per-client limit would refuse nearly every turn.
                "--chat-turns-per-session",
                "1000000",
                "--chat-turns-per-client",
                "1000000",
                "--max-connections",
                "3000",
            ],
            cwd=directory,
            env=_clean_env(directory),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert process.stdout is not None
        try:
            with anyio.fail_after(60):
                while True:
                    line = await anyio.to_thread.run_sync(process.stdout.readline)
                    if not line:
                        raise RuntimeError(f"maya serve exited: see {directory / 'serve.log'}")
                    if "listening on " in line:
                        break
            base = line.split("listening on ", 1)[1].split()[0]
            async with Connection(base) as probe:
                if (await probe.request("GET", "/healthz")).status != 200:
                    raise RuntimeError("maya serve is not healthy")
            yield base, process.pid
        finally:
            process.terminate()
            try:
                await anyio.to_thread.run_sync(process.wait, 20)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"{COOKIE_NAME}={token}"}


def _browser_connection(base: str, token: str | None = None) -> Connection:
    """A connection as the page's own script makes them: its Origin, and its cookie."""
    headers = {"Origin": base}
    if token is not None:
        headers.update(_cookie(token))
    return Connection(base, headers=headers)


async def _closed_loop(work: Callable[[int], Awaitable[None]], seconds: float) -> int:
    """Run ``work(worker)`` back to back from ``CONCURRENCY`` tasks; how many completed."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await work(index)
            done += 1

    async with anyio.create_task_group() as group:
        for index in range(CONCURRENCY):
            group.start_soon(worker, index)
    return done


def server_cpu_s(pid: int) -> float | None:
    """The CPU (user and system, all threads) of process ``pid`` and every process under
    it (its workers, and the sandbox it started, idle while only ``/healthz`` or turns
    are asked), in seconds, from ``/proc``; None without ``/proc``."""
    tick = os.sysconf("SC_CLK_TCK")
    total, pending = 0.0, [pid]
    try:
        while pending:
            process = pending.pop()
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{process}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
    except (OSError, ValueError, IndexError):
        return None
    return total


async def per_request(
    pid: int, measure: Callable[[str], Awaitable[tuple[float, int]]], base: str
) -> tuple[float, float | None]:
    """``measure(base)``'s rate, and the server's CPU per request meanwhile in ms (None
    without ``/proc``)."""
    before = server_cpu_s(pid)
    rate, done = await measure(base)
    after = server_cpu_s(pid)
    if before is None or after is None or not done:
        return rate, None
    return rate, (after - before) / done * 1000


async def healthz_per_s(base: str, seconds: float | None = None) -> tuple[float, int]:
    connections = [_browser_connection(base) for _ in range(CONCURRENCY)]
    try:

        async def hit(index: int) -> None:
            reply = await connections[index].request("GET", "/healthz")
            if reply.status != 200:
                raise RuntimeError(f"/healthz {reply.status}")

        started = time.perf_counter()
        done = await _closed_loop(hit, BASELINE_S if seconds is None else seconds)
        return done / (time.perf_counter() - started), done
    finally:
        for connection in connections:
            await connection.aclose()


async def turns_per_s(base: str, seconds: float | None = None) -> tuple[float, int]:
    tokens = [new_token(SIGNER) for _ in range(CONCURRENCY)]
    turns = [0] * CONCURRENCY
    connections = [_browser_connection(base) for _ in range(CONCURRENCY)]
    try:

        async def turn(index: int) -> None:
            if turns[index] % 100 == 99:  # a fresh tab before the balance runs out
                tokens[index] = new_token(SIGNER)
            turns[index] += 1
            reply = await connections[index].request(
                "POST", "/api/chat", json_body={"message": "a beer"}, headers=_cookie(tokens[index])
            )
            if reply.status != 200:
                raise RuntimeError(f"chat {reply.status}")
            if "event: done" not in reply.text:
                raise RuntimeError(f"a turn did not finish: {reply.text[-200:]}")

        started = time.perf_counter()
        done = await _closed_loop(turn, TURNS_S if seconds is None else seconds)
        return done / (time.perf_counter() - started), done
    finally:
        for connection in connections:
            await connection.aclose()


@dataclass
class Step:
    """What N browsers saw."""

    browsers: int
    chat_ms: list[float] = field(default_factory=list)
    settle_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    simulated: int = 0
    finished: int = 0


async def _browser(base: str, step: Step, delay: float) -> None:
    await anyio.sleep(delay)
    # A browser of its own: two connections to the page (the overlay stream, and one
    # request at a time) and one to the checkout, as a real browser keeps them.
    token = new_token(SIGNER)
    async with (
        _browser_connection(base, token) as page,
        _browser_connection(base, token) as stream,
    ):
        await _browse(page, stream, step)


async def _browse(page: Connection, stream: Connection, step: Step) -> None:
    settled = anyio.Event()

    async def overlay() -> None:
        while True:  # as EventSource: reconnect a second after the stream ends or breaks
            try:
                async for line in stream.stream_lines("/api/tab/events"):
                    if line.startswith("data: "):
                        view = json.loads(line[6:])
                        if view["payment"]["status"] == "completed":
                            settled.set()
                            return
            except HttpError as exc:
                step.errors[f"overlay {exc}"[:40]] += 1
            await stream.aclose()
            await anyio.sleep(1)

    def checked(reply: Reply, what: str) -> Reply:
        if reply.status >= 300:
            raise RuntimeError(f"{what} {reply.status}")
        return reply

    async with anyio.create_task_group() as group:
        try:
            checked(await page.request("GET", "/", headers={"Accept-Encoding": "gzip"}), "page")
            group.start_soon(overlay)
            for message in ("a beer", "a water please"):
                await anyio.sleep(THINK_S)
                started = time.perf_counter()
                reply = checked(
                    await page.request("POST", "/api/chat", json_body={"message": message}),
                    "chat",
                )
                if "event: done" not in reply.text:
                    raise RuntimeError("chat ended without done")
                step.chat_ms.append((time.perf_counter() - started) * 1000)
            await anyio.sleep(THINK_S)
            checked(await page.request("POST", "/api/tip", json_body={"percent": 15}), "tip")
            await anyio.sleep(THINK_S)
            paying = time.perf_counter()
            link = checked(await page.request("POST", "/api/pay"), "pay").json()
            if not link.get("ok"):
                raise RuntimeError(f"pay refused: {link.get('message', '')[:60]}")
            if link.get("is_simulated"):
                step.simulated += 1
                checked(await page.request("POST", "/api/payment/check"), "check")
            else:
                url = urlsplit(link["url"])
                async with Connection(f"http://{url.netloc}") as checkout:
                    paid = await checkout.request(
                        "POST",
                        url.path,
                        form={"card_number": CARD},
                        headers={"Accept": "application/json"},
                    )
                checked(paid, "checkout")
            with anyio.fail_after(SETTLE_S):
                await settled.wait()
            step.settle_ms.append((time.perf_counter() - paying) * 1000)
            step.finished += 1
        except TimeoutError:
            step.errors["not settled"] += 1
        except (HttpError, RuntimeError, KeyError, ValueError) as exc:
            step.errors[str(exc)[:40] or type(exc).__name__] += 1
        finally:
            group.cancel_scope.cancel()


async def run_step(base: str, browsers: int) -> Step:
    step = Step(browsers)
    with anyio.move_on_after(STEP_BUDGET_S) as scope:
        async with anyio.create_task_group() as group:
            for _ in range(browsers):
                group.start_soon(_browser, base, step, random.uniform(0, RAMP_S))
    if scope.cancelled_caught:
        step.errors["step over budget"] += browsers - step.finished - sum(step.errors.values())
    return step


async def bench_server(
    name: str, store: str, workers: int, note: Callable[[str], None]
) -> dict[str, float]:
    figures: dict[str, float] = {}
    async with maya_serve(store, workers) as (base, pid):
        # Warm: the sandbox, the model, the store's first connections; then a slice of
        # untimed turns, so that what is timed is a running server's steady state (its
        # caches filled, Python's specialised bytecode in place), not its first seconds.
        await turns_per_s_warm(base)
        await turns_per_s(base, WARM_S)
        health, health_cpu, turns, turn_cpu, ratios = await alternated(pid, base)
        figures.update(
            healthz_per_s=health,
            turns_per_s=turns,
            turns_vs_healthz=turns / health,
            turns_vs_healthz_min=min(ratios),
            turns_vs_healthz_max=max(ratios),
        )
        note(
            f"{name}: /healthz {health:.0f}/s, chat turns {turns:.1f}/s ({turns / health:.3f};"
            f" its {ROUNDS} rounds {min(ratios):.3f}-{max(ratios):.3f})"
        )
        if health_cpu is not None and turn_cpu is not None:
            # What the ratio comes from: a turn's CPU in the server's processes, counted
            # in /healthz's (0.2 needs a turn to cost at most five).
            figures.update(
                healthz_server_cpu_ms=health_cpu,
                turn_server_cpu_ms=turn_cpu,
                turn_in_healthz=turn_cpu / health_cpu,
            )
            note(
                f"{name}: the server's CPU per /healthz {health_cpu:.3f} ms, per turn"
                f" {turn_cpu:.3f} ms ({turn_cpu / health_cpu:.1f} /healthz)"
            )
        held = 0
        worst: Step | None = None
        for browsers in STEPS:
            step = await run_step(base, browsers)
            errors = sum(step.errors.values())
            chat99, settle99 = pct(step.chat_ms, 99), pct(step.settle_ms, 99)
            note(
                f"  {browsers:4d} browsers: chat p99 {chat99:7.0f} ms, pay-to-settled p99"
                f" {settle99:7.0f} ms, errors {errors} {dict(step.errors)},"
                f" simulated links {step.simulated}"
            )
            worst = step
            if errors or chat99 >= 1000:
                break
            held = browsers
        assert worst is not None
        figures.update(
            chat_p99_ms=pct(worst.chat_ms, 99),
            pay_to_settled_p99_ms=pct(worst.settle_ms, 99),
            errors=float(sum(worst.errors.values())),
            simulated_links=float(worst.simulated),
            at_browsers=float(worst.browsers),
            held_n=float(held),
        )
    return figures


async def alternated(
    pid: int, base: str
) -> tuple[float, float | None, float, float | None, list[float]]:
    """``/healthz``'s rate and chat turns' in ``ROUNDS`` rounds, each a slice of each
    (``BASELINE_S`` and ``TURNS_S`` in all), so that a machine slowing down or speeding up
    meanwhile weighs on both alike: each rate pooled over its slices, the server's CPU
    per request (ms, None without ``/proc``) pooled too, and each round's ratio."""
    done = {"healthz": 0, "turns": 0}
    spent = {"healthz": 0.0, "turns": 0.0}
    cpu: dict[str, float | None] = {"healthz": 0.0, "turns": 0.0}
    ratios: list[float] = []
    for _ in range(ROUNDS):
        rates: dict[str, float] = {}
        for kind, measure, seconds in (
            ("healthz", healthz_per_s, BASELINE_S / ROUNDS),
            ("turns", turns_per_s, TURNS_S / ROUNDS),
        ):
            before = server_cpu_s(pid)
            rate, count = await measure(base, seconds)
            after = server_cpu_s(pid)
            rates[kind] = rate
            done[kind] += count
            spent[kind] += count / rate if rate else 0.0
            used = cpu[kind]
            cpu[kind] = (
                None if used is None or before is None or after is None else used + after - before
            )
        ratios.append(rates["turns"] / rates["healthz"])

    def ms_each(kind: str) -> float | None:
        used = cpu[kind]
        return None if used is None or not done[kind] else used / done[kind] * 1000

    return (
        done["healthz"] / spent["healthz"],
        ms_each("healthz"),
        done["turns"] / spent["turns"],
        ms_each("turns"),
        ratios,
    )


async def turns_per_s_warm(base: str) -> None:
    async with _browser_connection(base) as connection:
        for _ in range(3):
            headers = _cookie(new_token(SIGNER))
            await connection.request(
                "POST", "/api/chat", json_body={"message": "a water"}, headers=headers
            )


async def _asgi(app: Any, method: str, path: str, body: bytes = b"", cookie: str = "") -> bytes:
    """One request straight into the app (no socket, no HTTP parsing); the body sent."""
    headers = [(b"host", b"127.0.0.1:8000"), (b"origin", b"http://127.0.0.1:8000")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if cookie:
        headers.append((b"cookie", f"{COOKIE_NAME}={cookie}".encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": headers,
        "state": {},
    }
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    sent: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message.get("body", b""))

    await app(scope, receive, send)
    return b"".join(sent)


async def app_cpu(note: Callable[[str], None]) -> dict[str, float]:
    """The app's own CPU for a ``/healthz`` and for a chat turn, without HTTP.

    ``maya serve``'s app (the webhook app, the page's routes, its middleware) on a SQLite
    file, called in this process with no socket in between, its heap set aside from the
    collector once warm as the server's is (``freeze_started_heap``); the event loop's thread CPU
    (``thread_time``) per request, the best of three rounds. What a ``/healthz`` costs
    through uvicorn beyond this is HTTP and the socket, which a turn pays too: so a turn
    can reach at most ``1 / (1 + turn_cpu * healthz_per_s)`` of ``/healthz``'s rate.
    """
    from maya.bar import load_menu
    from maya.server.app import create_app
    from maya.server.heap import freeze_started_heap
    from maya.state import TabManager
    from maya.state.open import open_store
    from maya.web.app import WebSettings, web_routes

    turns, healths, rounds = 300, 1200, 3
    with tempfile.TemporaryDirectory(prefix="maya-bench-load-app-") as tmp:
        store = open_store(str(Path(tmp) / "tabs.sqlite3"))
        try:
            manager = TabManager(store, catalog=load_menu())
            settings = WebSettings(
                cookie_secret=SECRET.encode(),
                chat_turns_per_session=10**9,
                chat_turns_per_client=10**9,
            )
            routes = web_routes(manager=manager, payments=None, settings=settings)
            app = create_app(
                manager,
                webhook_secret="whsec_" + "x" * 32,
                routes=routes,
                allowed_hosts=["127.0.0.1"],
            )
            body = json.dumps({"message": "a beer"}).encode()
            for _ in range(20):  # warm: the first connection, the model's patterns
                await _asgi(app, "POST", "/api/chat", body, new_token(SIGNER))
            freeze_started_heap()  # as `maya serve` does once started
            best_health = best_turn = float("inf")
            for _ in range(rounds):
                started = time.thread_time()
                for _ in range(healths):
                    await _asgi(app, "GET", "/healthz")
                best_health = min(best_health, (time.thread_time() - started) / healths)
                started = time.thread_time()
                for turn in range(turns):
                    if turn % 50 == 0:  # a fresh tab before the balance runs out
                        token = new_token(SIGNER)
                    sent = await _asgi(app, "POST", "/api/chat", body, token)
                best_turn = min(best_turn, (time.thread_time() - started) / turns)
                if b"event: done" not in sent:
                    raise RuntimeError(f"a turn did not finish: {sent[-200:]!r}")
        finally:
            gc.unfreeze()
            await store.aclose()
    note(
        f"the app alone (no HTTP, SQLite): /healthz {best_health * 1000:.3f} ms,"
        f" a chat turn {best_turn * 1000:.3f} ms of the loop's CPU"
    )
    return {"healthz_cpu_ms": best_health * 1000, "turn_cpu_ms": best_turn * 1000}


def _postgres(note: Callable[[str], None]) -> tuple[str, Callable[[], None]] | None:
    base = (
        os.environ.get("MAYA_BENCH_POSTGRES_URL")
        or os.environ.get("MAYA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(base, autocommit=True, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        note(f"PostgreSQL skipped: {type(exc).__name__}")
        return None
    schema = f"maya_bench_load_{uuid.uuid4().hex[:8]}"

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )

    return f"{base}{'&' if '?' in base else '?'}schema={schema}", drop


UNITS = {
    "_per_s": "1/s",
    "_ms": "ms",
    "_vs_": "x",
    "_in_": "x",
    "_ceiling": "x",
    "errors": "errors",
    "simulated_links": "links",
    "held_n": "browsers",
    "at_browsers": "browsers",
}


def unit_of(metric: str) -> str:
    return next((unit for marker, unit in UNITS.items() if marker in metric), "")


SERVERS = ("sqlite_1w", "postgres_1w", "postgres_2w")
"""What ``bench_load.py [SERVER ...]`` can load, one after another (each well under a
minute); with no argument, ``sqlite_1w``."""


async def bench_all(servers: Sequence[str], note: Callable[[str], None]) -> dict[str, float]:
    figures: dict[str, float] = {}
    if "sqlite_1w" in servers:
        app = await app_cpu(note)
        figures.update({f"app.{k}": v for k, v in app.items()})
        with tempfile.TemporaryDirectory(prefix="maya-bench-load-tabs-") as tmp:
            sqlite = await bench_server("sqlite_1w", str(Path(tmp) / "tabs.sqlite3"), 1, note)
        # The most a turn could reach if its HTTP, stream and thread hop cost no more than
        # a /healthz's: the app's own CPU for a turn, against /healthz's rate in the same run.
        ceiling = 1 / (1 + app["turn_cpu_ms"] / 1000 * sqlite["healthz_per_s"])
        sqlite["turns_vs_healthz_ceiling"] = ceiling
        note(
            f"sqlite_1w: turns/s against /healthz could reach at most {ceiling:.3f} (the app alone)"
        )
        figures.update({f"sqlite_1w.{k}": v for k, v in sqlite.items()})
    for workers in (1, 2):
        name = f"postgres_{workers}w"
        if name not in servers:
            continue
        found = _postgres(note)
        if found is None:
            break
        url, drop = found
        try:
            got = await bench_server(name, url, workers, note)
            figures.update({f"{name}.{k}": v for k, v in got.items()})
        finally:
            drop()
    return figures


def main() -> None:
    """Run the benchmark; print notes as it goes, then one JSON line per figure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "servers",
        nargs="*",
        metavar="SERVER",
        help=f"what to load: {', '.join(SERVERS)} or all (default: sqlite_1w)",
    )
    chosen = parser.parse_args().servers or ["sqlite_1w"]
    unknown = sorted(set(chosen) - {*SERVERS, "all"})
    if unknown:
        parser.error(f"unknown server {', '.join(unknown)}: choose from {', '.join(SERVERS)}, all")
    servers = SERVERS if "all" in chosen else tuple(chosen)
    # 600 browsers hold about 1,200 connections: more than the common 1,024 files, for
    # this process and the server it starts (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    started = time.perf_counter()
    figures = anyio.run(bench_all, servers, lambda line: print(line, flush=True))
    print(f"(ran in {time.perf_counter() - started:.1f} s)")
    for metric, value in figures.items():
        print(
            json.dumps(
                {"metric": f"load.{metric}", "value": round(value, 3), "unit": unit_of(metric)}
            )
        )


if __name__ == "__main__":
    main()
