"""How fast a paid link becomes a settled tab: ``python benchmarks/bench_webhook.py``.

Two figures, on SQLite and on PostgreSQL:

- **submit -> settled**: the time from submitting the sandbox's checkout form (an HTTP
  POST over a real socket) to the commit of the settlement in ``maya serve``'s app,
  p50 and p99. Both servers run on uvicorn on 127.0.0.1 in this process, so the commit
  is observed exactly (a ``TabManager`` listener fires right after it); the event
  travels over a real socket, signed by the sandbox and verified by ``stripe``.
- **events/s on one worker**: ``maya serve`` as a subprocess (one uvicorn worker) is
  sent signed ``checkout.session.completed`` events, each settling its own tab, from 8
  concurrent connections; and, as a baseline in the same run against the same process,
  ``GET /healthz`` requests: the ratio says what verifying and committing an event
  costs beside a bare request.
- **a realistic mix on one worker**: the same process is sent what an endpoint really
  gets: 80 % event types Maya does not handle (Stripe's own ``charge`` fixture from
  ``tests/fixtures/stripe``), 10 % redeliveries of events already applied, 10 %
  ``checkout.session.completed`` (Stripe's Checkout Session fixture) each settling its
  tab; events/s and p99 latency, beside ``GET /healthz`` measured the same way in the
  same run (ratios).

PostgreSQL runs against ``$MAYA_BENCH_POSTGRES_URL``, else ``$MAYA_TEST_POSTGRES_URL``,
else ``postgresql://postgres@127.0.0.1:5432/test`` (skipped with a note when it does not
answer), in a schema of its own, dropped afterwards. Stores run with their durable
defaults. Output: a table, then one JSON line per figure.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import uvicorn
from anyio.streams.buffered import BufferedByteReceiveStream

from _postgres import drop_schema, postgres_answers, postgres_url
from maya.bar import load_menu
from maya.sandbox import CARD_SUCCESS, SandboxStore
from maya.sandbox.checkout import build_checkout_app
from maya.sandbox.remote import apay_url
from maya.sandbox.server import bind_socket
from maya.sandbox.webhooks import WebhookSender, WebhookTarget, sign
from maya.server import create_app
from maya.state import TabManager, TabState
from maya.state.open import open_store

SECRET = "whsec_bench_" + "e" * 32
LINKS = 60
EVENTS = 600
MIX = 1000
"""Requests in the realistic mix (a tenth of them settle a tab of their own)."""
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "stripe"
CONCURRENCY = 8

figures: list[dict[str, Any]] = []
rows: list[tuple[str, str]] = []


def report(metric: str, value: float, unit: str) -> None:
    figures.append({"metric": metric, "value": round(value, 3), "unit": unit})
    rows.append((metric, f"{value:,.2f} {unit}"))


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


async def open_tab_with_link(
    manager: TabManager, sandbox: SandboxStore, session: str, *, base_url: str = ""
) -> str:
    """A tab with one Martini and a sandbox link recorded for it; returns the link's URL."""
    await manager.order(session, "Martini")
    started = await manager.begin_payment(session)
    product = sandbox.create_product(name="Maya bar tab")
    price = sandbox.create_price(product=product["id"], unit_amount=1300, currency="usd")
    link = sandbox.create_payment_link(
        line_items=[(price["id"], 1)],
        metadata={"idempotency_key": started.payment.idempotency_key},
    )
    url = base_url + link["url"]
    await manager.record_payment_link(
        session,
        idempotency_key=started.payment.idempotency_key,
        payment_id=link["id"],
        url=url,
        is_simulated=False,
    )
    return url


@asynccontextmanager
async def uvicorn_on_loopback(app: Any) -> AsyncIterator[str]:
    sock = bind_socket("127.0.0.1", 0)
    sock.listen(128)  # connections queue until uvicorn accepts them
    config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: server.serve(sockets=[sock]))
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
    sock.close()


async def submit_to_settled(kind: str, url: str, workdir: Path) -> None:
    store = open_store(url)
    manager = TabManager(store, catalog=load_menu())
    committed: dict[str, float] = {}
    settled_events: dict[str, anyio.Event] = {}

    def on_change(operation: str, _before: TabState | None, after: TabState) -> None:
        if operation == "payment_event":
            committed[after.session_id] = time.perf_counter()
            settled_events[after.session_id].set()

    manager.add_listener(on_change)
    with SandboxStore(workdir / f"sandbox-{kind}.sqlite3") as sandbox:
        async with uvicorn_on_loopback(create_app(manager, webhook_secret=SECRET)) as maya:
            sender = WebhookSender(WebhookTarget(f"{maya}/stripe/webhook", SECRET), sandbox)
            checkout_app = build_checkout_app(sandbox, webhooks=sender)
            async with uvicorn_on_loopback(checkout_app) as checkout, httpx.AsyncClient() as http:
                sessions = [f"bench-{kind}-{n}" for n in range(LINKS)]
                links = [
                    await open_tab_with_link(manager, sandbox, s, base_url=checkout)
                    for s in sessions
                ]
                latencies: list[float] = []
                for session, link in zip(sessions, links, strict=True):
                    settled_events[session] = anyio.Event()
                    started = time.perf_counter()
                    with anyio.fail_after(10):
                        result = await apay_url(link, CARD_SUCCESS, client=http)
                        assert result.paid, result
                        await settled_events[session].wait()
                    latencies.append((committed[session] - started) * 1000)
            await sender.aclose()
    await store.aclose()
    latencies.sort()
    report(f"{kind}.submit_to_settled_p50_ms", statistics.median(latencies), "ms")
    report(f"{kind}.submit_to_settled_p99_ms", latencies[int(len(latencies) * 0.99) - 1], "ms")


def completed_event(event_id: str, link: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "created": int(time.time()),
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": "cs_" + event_id,
                    "payment_link": link,
                    "payment_status": "paid",
                    "status": "complete",
                    "amount_total": 1300,
                    "metadata": {},
                }
            },
        }
    ).encode()


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def mix_bodies(run: str, links: list[str]) -> list[bytes]:
    """80 % unhandled types, 10 % redeliveries, 10 % Checkout events, interleaved.

    Every tenth request settles a tab (one of ``links``); the next one redelivers it.
    """
    event, charge = fixture("event"), fixture("charge")
    session = fixture("checkout_session")
    bodies: list[bytes] = []
    for n in range(MIX):
        if n % 10 == 0:
            paid = {
                **session,
                "id": f"cs_{run}_{n}",
                "payment_link": links[n // 10],
                "payment_status": "paid",
                "status": "complete",
                "amount_total": 1300,
                "currency": "usd",
            }
            body = {**event, "id": f"evt_{run}_{n}", "type": "checkout.session.completed"}
            bodies.append(json.dumps({**body, "data": {"object": paid}}).encode())
        elif n % 10 == 1:
            bodies.append(bodies[-1])  # Stripe delivers again: same event, same id
        else:
            other = {**event, "id": f"evt_{run}_{n}", "type": "charge.succeeded"}
            bodies.append(json.dumps({**other, "data": {"object": charge}}).encode())
    return bodies


async def blast(
    http: httpx.AsyncClient,
    count: int,
    request: Callable[[int], Any],
    latencies: list[float] | None = None,
) -> tuple[float, int]:
    """Run ``request(i)`` for i < count from CONCURRENCY tasks; (requests/s, non-2xx).

    With ``latencies``, each request's milliseconds are appended to it.
    """
    next_index = iter(range(count))
    bad = 0

    async def worker() -> None:
        nonlocal bad
        for index in next_index:
            began = time.perf_counter()
            response = await request(index)
            if latencies is not None:
                latencies.append((time.perf_counter() - began) * 1000)
            bad += not response.is_success

    started = time.perf_counter()
    async with anyio.create_task_group() as group:
        for _ in range(CONCURRENCY):
            group.start_soon(worker)
    return count / (time.perf_counter() - started), bad


def p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


async def events_per_second(kind: str, url: str, workdir: Path) -> None:
    store = open_store(url)
    manager = TabManager(store, catalog=load_menu())
    links: list[str] = []
    mixed: list[str] = []
    with SandboxStore(workdir / f"rate-{kind}.sqlite3") as sandbox:
        for n in range(EVENTS + MIX // 10):
            await open_tab_with_link(manager, sandbox, f"rate-{kind}-{n}")
            state = await manager.get(f"rate-{kind}-{n}")
            payment_id = state.payments[-1].payment_id
            assert payment_id is not None
            (links if n < EVENTS else mixed).append(payment_id)
    await store.aclose()
    env = {**os.environ, "STRIPE_WEBHOOK_SECRET": SECRET}
    env["MAYA_MCP_CONFIG"] = str(workdir / "mcp.json")  # configured: no sandbox spawned
    (workdir / "mcp.json").write_text(
        '{"mcpServers": {"stripe": {"url": "http://127.0.0.1:9/mcp"}}}'
    )
    process = await anyio.open_process(
        [sys.executable, "-m", "maya.cli", "serve", "--port", "0", "--store", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        with anyio.fail_after(30):
            line = (
                await BufferedByteReceiveStream(process.stdout).receive_until(b"\n", 4096)
            ).decode()
        base = line.split("listening on ", 1)[1].split()[0]
        limits = httpx.Limits(max_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=base, limits=limits) as http:
            await http.get("/healthz")
            bodies = [completed_event(f"evt_rate_{kind}_{n}", link) for n, link in enumerate(links)]

            async def event(index: int) -> httpx.Response:
                body = bodies[index]
                headers = {"Stripe-Signature": sign(body, SECRET, int(time.time()))}
                return await http.post("/stripe/webhook", content=body, headers=headers)

            async def health(index: int) -> httpx.Response:
                return await http.get("/healthz")

            baseline, _ = await blast(http, EVENTS, health)
            rate, bad = await blast(http, EVENTS, event)
            duplicate_rate, _ = await blast(http, EVENTS, event)
            mix = mix_bodies(f"mix_{kind}", mixed)

            async def mixed_event(index: int) -> httpx.Response:
                body = mix[index]
                headers = {"Stripe-Signature": sign(body, SECRET, int(time.time()))}
                return await http.post("/stripe/webhook", content=body, headers=headers)

            health_ms: list[float] = []
            mix_ms: list[float] = []
            mix_baseline, _ = await blast(http, MIX, health, health_ms)
            mix_rate, mix_bad = await blast(http, MIX, mixed_event, mix_ms)
        assert bad == 0, f"{bad} events refused"
        assert mix_bad == 0, f"{mix_bad} events of the mix refused"
    finally:
        process.terminate()
        with anyio.fail_after(15):
            await process.wait()
    report(f"{kind}.webhook_events_per_s", rate, "1/s")
    report(f"{kind}.webhook_duplicate_events_per_s", duplicate_rate, "1/s")
    report(f"{kind}.healthz_requests_per_s", baseline, "1/s")
    report(f"{kind}.webhook_events_vs_healthz", rate / baseline, "ratio")
    report(f"{kind}.mix_events_per_s", mix_rate, "1/s")
    report(f"{kind}.mix_p99_ms", p99(mix_ms), "ms")
    report(f"{kind}.mix_healthz_requests_per_s", mix_baseline, "1/s")
    report(f"{kind}.mix_healthz_p99_ms", p99(health_ms), "ms")
    report(f"{kind}.mix_events_vs_healthz", mix_rate / mix_baseline, "ratio")
    report(f"{kind}.mix_p99_vs_healthz_p99", p99(mix_ms) / p99(health_ms), "ratio")


async def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="maya-bench-webhook-") as folder:
        workdir = Path(folder)
        await submit_to_settled("sqlite", f"sqlite:///{workdir / 'tabs.sqlite3'}", workdir)
        await events_per_second("sqlite", f"sqlite:///{workdir / 'rate.sqlite3'}", workdir)
        pg = postgres_url()
        if postgres_answers(pg):
            schema = f"maya_bench_{uuid.uuid4().hex[:8]}"
            try:
                await submit_to_settled("postgres", with_schema(pg, schema), workdir)
                await events_per_second("postgres", with_schema(pg, schema + "r"), workdir)
            finally:
                drop_schema(pg, schema)
                drop_schema(pg, schema + "r")
        else:
            print("PostgreSQL did not answer: its figures are skipped")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for figure in figures:
        print(json.dumps(figure))


if __name__ == "__main__":
    anyio.run(main)
