"""``maya serve`` for real: processes, sockets, signals, with a sandbox subprocess sharing
nothing but HTTP, and ``serve()`` alone running the whole offline flow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from io import StringIO
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from starlette.routing import BaseRoute

from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.payments import open_stripe_client
from maya.sandbox import CARD_GENERIC_DECLINE, CARD_SUCCESS
from maya.sandbox.remote import apay_url
from maya.sandbox.webhooks import sign
from maya.server import ServeContext, serve
from maya.state import PaymentStatus, TabManager, TabState
from maya.state.open import open_store
from maya.tools import Toolset
from state.conftest import Backend

from .test_sandbox_events import CountingGateway

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "whsec_e2e_" + "d" * 32
SESSION = "e2e"


async def read_line(stream: BufferedByteReceiveStream, contains: str) -> str:
    """The first line holding ``contains`` (earlier lines are skipped)."""
    while True:
        line = (await stream.receive_until(b"\n", 65536)).decode()
        if contains in line:
            return line


@asynccontextmanager
async def spawned(
    args: Sequence[str],
    *,
    env: dict[str, str],
    cwd: Path,
    announce: str,
    on_stdout: bool,
    log: Path | None = None,
) -> AsyncIterator[tuple[Process, str]]:
    """Start ``python -m ...``; yield it and its announcement line; SIGTERM it at the end.

    The announcement is read from stdout (``on_stdout``) or stderr; stderr goes to
    ``log`` when given and the announcement is on stdout.
    """
    errors: Any = subprocess.DEVNULL
    if not on_stdout:
        errors = subprocess.PIPE
    elif log is not None:
        errors = log.open("wb")
    process = await anyio.open_process(
        [sys.executable, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE if on_stdout else subprocess.DEVNULL,
        stderr=errors,
    )
    try:
        stream = process.stdout if on_stdout else process.stderr
        assert stream is not None
        with anyio.fail_after(30):
            line = await read_line(BufferedByteReceiveStream(stream), announce)
        yield process, line
        process.send_signal(signal.SIGTERM)
        with anyio.fail_after(15):
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
        with anyio.fail_after(15):
            await process.aclose()  # waits, and closes its pipes
        if hasattr(errors, "close"):
            errors.close()


def url_in(line: str, after: str) -> str:
    return line.split(after, 1)[1].split()[0].rstrip(";")


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAYA_", "STRIPE_")) and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    }
    env.update(
        MAYA_SANDBOX_DB=str(tmp_path / "sandbox.sqlite3"),
        MAYA_SERVER_SECRET_FILE=str(tmp_path / "server-secret"),
        **extra,
    )
    return env


async def wait_settled(manager: TabManager) -> TabState:
    with anyio.fail_after(20):
        while True:
            state = await manager.get(SESSION)
            if state.payment_status is PaymentStatus.COMPLETED:
                return state
            await anyio.sleep(0.02)


async def call(toolset: Toolset, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    with anyio.fail_after(30):
        response = await toolset.call(name, args or {}, SESSION)
    assert response["status"] == "ok", response
    result: dict[str, Any] = response["result"]
    return result


async def test_serve_and_the_sandbox_as_processes_settle_a_paid_link_by_event(
    tmp_path: Path, sql_backend: Backend
) -> None:
    tabs = sql_backend.url  # SQLite, then PostgreSQL
    placeholder = tmp_path / "serve-mcp.json"
    # Configured (not the built-in sandbox): serve needs the secret and starts nothing.
    placeholder.write_text(
        json.dumps({"mcpServers": {"stripe": {"url": "http://127.0.0.1:9/mcp"}}})
    )
    serve_env = clean_env(tmp_path, STRIPE_WEBHOOK_SECRET=SECRET, MAYA_MCP_CONFIG=str(placeholder))
    serve_log = tmp_path / "serve.log"
    async with spawned(
        ["-m", "maya.cli", "serve", "--port", "0", "--store", tabs],
        env=serve_env,
        cwd=tmp_path,
        announce="listening on",
        on_stdout=True,
        log=serve_log,
    ) as (serve_process, serve_line):
        base = url_in(serve_line, "listening on ")
        sandbox_db = tmp_path / "sandbox-http.sqlite3"
        async with spawned(
            [
                "-m",
                "maya.sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--db",
                str(sandbox_db),
                "--webhook-url",
                f"{base}/stripe/webhook",
                "--webhook-secret",
                SECRET,
            ],
            env=clean_env(tmp_path),
            cwd=tmp_path,
            announce="MCP at",
            on_stdout=False,
        ) as (sandbox_process, sandbox_line):
            mcp_url = url_in(sandbox_line, "MCP at ")
            config = tmp_path / "mcp.json"
            config.write_text(json.dumps({"mcpServers": {"stripe": {"url": mcp_url}}}))
            store = open_store(tabs)
            manager = TabManager(store, catalog=load_menu())
            try:
                async with (
                    httpx.AsyncClient() as http,
                    open_stripe_client(config_path=config, environ={}) as client,
                ):
                    health = await http.get(f"{base}/healthz")
                    assert health.json() == {"status": "ok"}
                    gateway = CountingGateway(client)
                    toolset = Toolset(manager=manager, payments=gateway, messages=bar_messages())
                    await call(toolset, "order_drink", {"name": "Negroni", "quantity": 2})
                    link = await call(toolset, "create_stripe_payment")
                    # A declined card leaves the session open; it expires; the link
                    # stays payable, and the completed session after it settles.
                    declined = await apay_url(link["url"], CARD_GENERIC_DECLINE, client=http)
                    assert declined.outcome == "declined"
                    with anyio.fail_after(30):
                        expired = await anyio.run_process(
                            [
                                sys.executable,
                                "-m",
                                "maya.sandbox",
                                "expire",
                                link["url"],
                                "--db",
                                str(sandbox_db),
                                "--webhook-url",
                                f"{base}/stripe/webhook",
                                "--webhook-secret",
                                SECRET,
                            ],
                            env=clean_env(tmp_path),
                        )
                    assert b": expired" in expired.stdout
                    assert (await manager.get(SESSION)).tab_cents == 2200
                    paid = await apay_url(link["url"], CARD_SUCCESS, client=http)
                    assert paid.paid
                    state = await wait_settled(manager)
                    assert (state.tab_cents, state.balance_cents) == (0, 100_000 - 2200)
                    answer = await call(toolset, "check_payment_status")
                    assert answer["confirmed_by"] == "stripe_webhook"
                    assert gateway.status_checks == 0
            finally:
                await store.aclose()
            with anyio.fail_after(30):
                listed = await anyio.run_process(
                    [sys.executable, "-m", "maya.sandbox", "events", "--db", str(sandbox_db)],
                    env=clean_env(tmp_path),
                )
            lines = listed.stdout.decode().splitlines()
            assert len(lines) == 2 and "checkout.session.expired" in lines[1]
            line = lines[0]  # newest first
            event_id = line.split()[0]
            assert event_id.startswith("evt_") and "checkout.session.completed" in line
            assert "last status 200" in line
            with anyio.fail_after(30):
                resent = await anyio.run_process(
                    [
                        sys.executable,
                        "-m",
                        "maya.sandbox",
                        "events",
                        "--db",
                        str(sandbox_db),
                        "resend",
                        event_id,
                        "--webhook-url",
                        f"{base}/stripe/webhook",
                        "--webhook-secret",
                        SECRET,
                    ],
                    env=clean_env(tmp_path),
                    check=False,
                )
            assert resent.returncode == 0, resent.stderr
            assert "answered 200" in resent.stdout.decode()
            store = open_store(tabs)
            try:
                again = await TabManager(store, catalog=load_menu()).get(SESSION)
                assert again == state  # the redelivery changed nothing
                outcome = await store.event_outcome(event_id)  # type: ignore[attr-defined]
                assert outcome is not None and outcome.value == "settled"
            finally:
                await store.aclose()
        assert sandbox_process.returncode is not None
    assert serve_process.returncode == 0  # SIGTERM: a clean shutdown
    logged = serve_log.read_text()
    requests = [line for line in logged.splitlines() if "maya.server " in line]
    # One line per request (and nothing else): health, expired, completed, the resend.
    assert len(requests) == 4, requests
    webhook = [line for line in requests if " POST /stripe/webhook 200 " in line]
    assert "checkout.session.expired -> expired (session" in webhook[0]
    assert f"{event_id} checkout.session.completed -> settled (session {SESSION})" in webhook[1]
    assert f"{event_id} checkout.session.completed -> duplicate" in webhook[2]
    assert sum(" GET /healthz 200 " in line for line in requests) == 1
    assert SECRET not in logged and "cs_test_" not in logged


async def test_serve_alone_starts_the_sandbox_and_settles_by_its_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no mcp.json here: nothing configured
    contexts: list[ServeContext] = []
    ready = anyio.Event()

    def capture(context: ServeContext) -> Sequence[BaseRoute]:
        contexts.append(context)
        ready.set()
        return []

    announced = StringIO()
    env = clean_env(tmp_path)
    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: serve(
                port=0,
                store_url=f"sqlite:///{tmp_path / 'tabs.sqlite3'}",
                extra_routes=[capture],
                environ=env,
                announce=announced,
            )
        )
        with anyio.fail_after(30):
            await ready.wait()
        context = contexts[0]
        toolset = Toolset(
            manager=context.manager, payments=context.payments, messages=bar_messages()
        )
        await call(toolset, "order_drink", {"name": "Daiquiri"})
        link = await call(toolset, "create_stripe_payment")
        async with httpx.AsyncClient() as http:
            assert (await apay_url(link["url"], CARD_SUCCESS, client=http)).paid
        state = await wait_settled(context.manager)
        assert state.tab_cents == 0
        answer = await call(toolset, "check_payment_status")
        assert answer["confirmed_by"] == "stripe_webhook"
        group.cancel_scope.cancel()
    assert "listening on http://127.0.0.1:" in announced.getvalue()
    assert "sandbox sends its events here" in announced.getvalue()


def test_serve_refuses_a_configured_stripe_without_a_webhook_secret(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"stripe": {"url": "http://127.0.0.1:9/mcp"}}}))
    done = subprocess.run(
        [sys.executable, "-m", "maya.cli", "serve", "--port", "0", "--store", "memory://"],
        env=clean_env(tmp_path, MAYA_MCP_CONFIG=str(config), STRIPE_WEBHOOK_SECRET="sk_live_x"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("maya serve: STRIPE_WEBHOOK_SECRET must be")
    assert "sk_live_x" not in done.stderr


async def test_several_workers_share_the_tabs_and_apply_an_event_once(
    tmp_path: Path, sql_backend: Backend
) -> None:
    env = clean_env(tmp_path, STRIPE_WEBHOOK_SECRET=SECRET)
    async with spawned(
        ["-m", "maya.cli", "serve", "--workers", "3", "--port", "0", "--store", sql_backend.url],
        env=env,
        cwd=tmp_path,  # no mcp.json: one sandbox for all workers
        announce="listening on",
        on_stdout=True,
        log=tmp_path / "serve.log",
    ) as (serve_process, line):
        base = url_in(line, "listening on ")
        assert "3 workers" in line
        mcp_url = line.split("the sandbox (", 1)[1].split(")")[0]
        config = tmp_path / "mcp.json"
        config.write_text(json.dumps({"mcpServers": {"stripe": {"url": mcp_url}}}))
        store = open_store(sql_backend.url)
        try:
            manager = TabManager(store, catalog=load_menu())
            async with (
                httpx.AsyncClient() as http,
                open_stripe_client(config_path=config, environ={}) as client,
            ):
                toolset = Toolset(manager=manager, payments=client, messages=bar_messages())
                await call(toolset, "order_drink", {"name": "IPA"})
                link = await call(toolset, "create_stripe_payment")
                assert (await apay_url(link["url"], CARD_SUCCESS, client=http)).paid
                state = await wait_settled(manager)
                assert state.tab_cents == 0
                # A second tab, its event delivered 6 times at once across the workers.
                await manager.order("twice", "Gin")
                started = await manager.begin_payment("twice")
                await manager.record_payment_link(
                    "twice",
                    idempotency_key=started.payment.idempotency_key,
                    payment_id="plink_twice",
                    url="https://buy.stripe.com/test_twice",
                    is_simulated=False,
                )
                body = json.dumps(
                    {
                        "id": "evt_twice",
                        "type": "checkout.session.completed",
                        "created": 1,
                        "data": {
                            "object": {
                                "id": "cs_twice",
                                "payment_link": "plink_twice",
                                "payment_status": "paid",
                                "amount_total": 800,
                            }
                        },
                    }
                ).encode()
                outcomes: list[str] = []

                async def deliver() -> None:
                    async with httpx.AsyncClient() as own:  # its own connection
                        answer = await own.post(
                            f"{base}/stripe/webhook",
                            content=body,
                            headers={"Stripe-Signature": sign(body, SECRET, int(time.time()))},
                        )
                    outcomes.append(answer.json()["outcome"])

                with anyio.fail_after(30):
                    async with anyio.create_task_group() as group:
                        for _ in range(6):
                            group.start_soon(deliver)
                assert sorted(outcomes) == ["duplicate"] * 5 + ["settled"]
                twice = await manager.get("twice")
                assert (twice.tab_cents, twice.credit_cents) == (0, 0)
        finally:
            await store.aclose()
    assert serve_process.returncode == 0
    logged = (tmp_path / "serve.log").read_text().splitlines()
    webhook_lines = [entry for entry in logged if "maya.server POST /stripe/webhook" in entry]
    assert all(" 200 " in entry for entry in webhook_lines)
    # The workers log one line per request: the six deliveries of evt_twice, one settling.
    twice = [entry for entry in webhook_lines if " evt_twice " in entry]
    assert len(twice) == 6
    assert sum("-> settled" in entry for entry in twice) == 1
    # The sandbox delivers at least once, as Stripe does (on a loaded machine its event
    # has been seen to arrive two or three times): each is logged, exactly one settles.
    sandbox = [entry for entry in webhook_lines if " evt_twice " not in entry]
    assert len(sandbox) >= 1
    assert sum("-> settled" in entry for entry in sandbox) == 1
    assert all("-> settled" in entry or "-> duplicate" in entry for entry in sandbox)


def test_several_workers_refuse_a_store_they_cannot_share(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maya.cli", "serve", "--workers", "2", "--store", "memory://"],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("maya serve: several workers need a store they share")


async def test_serve_refuses_a_foreign_host_and_replaces_a_forged_cookie(tmp_path: Path) -> None:
    from maya.web.security import COOKIE_NAME

    async with (
        spawned(
            [
                *("-m", "maya.cli", "serve", "--port", "0", "--store", "memory://"),
                *("--allowed-host", "bar.example"),
            ],
            env=clean_env(tmp_path),
            cwd=tmp_path,
            announce="listening on",
            on_stdout=True,
            log=tmp_path / "serve.log",
        ) as (_, line),
        httpx.AsyncClient(base_url=url_in(line, "listening on ")) as http,
    ):
        with anyio.fail_after(30):
            assert (await http.get("/healthz")).status_code == 200
            evil = await http.get("/healthz", headers={"Host": "evil.example"})
            assert evil.status_code == 421
            assert evil.headers["x-content-type-options"] == "nosniff"
            assert (await http.get("/", headers={"Host": "evil.example:80"})).status_code == 421
            assert (await http.get("/healthz", headers={"Host": "bar.example"})).status_code == 200
            forged = "A" * 43
            http.cookies.set(COOKIE_NAME, forged)
            assert (await http.get("/api/tab")).status_code == 401
            page = await http.get("/")
            assert page.cookies[COOKIE_NAME] != forged
            http.cookies.clear()
            http.cookies.set(COOKIE_NAME, page.cookies[COOKIE_NAME])
            assert (await http.get("/api/tab")).status_code == 200
    # The server's secret file was made where the environment said, not in the user's dir.
    assert (tmp_path / "server-secret").stat().st_mode & 0o077 == 0
