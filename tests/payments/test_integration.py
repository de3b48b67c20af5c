"""The client against ``python -m maya.sandbox`` as a real process, over stdio and HTTP."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import anyio
import httpx
import pytest

from maya.payments import StripeMCPClient, load_server_config, sandbox_server_config
from maya.sandbox import CARD_GENERIC_DECLINE, CARD_SUCCESS, LIST_TOOLS
from maya.sandbox.checkout import CARD_FIELD
from maya.testing import FakeClock
from maya.testing.client_calls import count_client_calls, forget_availability

from .conftest import HttpSandbox, kill, sandbox_children

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def pay_through_checkout_form(url: str, card: str) -> dict[str, object]:
    """Open the checkout page and submit its form, as a customer's browser would."""
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(url)
        assert page.status_code == 200
        assert f'name="{CARD_FIELD}"' in page.text
        answer = await http.post(
            url, data={CARD_FIELD: card}, headers={"Accept": "application/json"}
        )
    result: dict[str, object] = answer.json()
    return result


def stdio_client(db: Path, clock: FakeClock, *extra: str) -> StripeMCPClient:
    config = sandbox_server_config(environ={}, args=("--db", str(db), *extra))
    return StripeMCPClient.from_config(config, clock=clock, sleep=clock.sleep)


async def test_stdio_create_pay_and_see_it_succeed(tmp_path: Path, clock: FakeClock) -> None:
    with anyio.fail_after(60):
        async with stdio_client(tmp_path / "s.sqlite3", clock) as client:
            link = await client.create_payment_link(1850, "Maya tab", "stdio-key")
            assert not link.is_simulated
            assert link.url.startswith("http://127.0.0.1:")
            pending = await client.check_payment_status(link.payment_id, deadline=0.1)
            assert pending.status == "pending"
            assert (await pay_through_checkout_form(link.url, CARD_SUCCESS))["outcome"] == "paid"
            paid = await client.check_payment_status(link.payment_id)
            assert (paid.status, paid.amount_paid_cents) == ("succeeded", 1850)
            assert client.connect_count == 1


async def test_stdio_declined_card_reads_as_failed(tmp_path: Path, clock: FakeClock) -> None:
    with anyio.fail_after(60):
        async with stdio_client(tmp_path / "s.sqlite3", clock) as client:
            link = await client.create_payment_link(900, "Tab", "stdio-decline")
            await pay_through_checkout_form(link.url, CARD_GENERIC_DECLINE)
            result = await client.check_payment_status(link.payment_id)
    assert (result.status, result.failure_reason) == ("failed", "generic_decline")


async def test_stdio_reuses_one_session_for_many_calls(tmp_path: Path, clock: FakeClock) -> None:
    db = tmp_path / "s.sqlite3"
    with anyio.fail_after(60):
        async with stdio_client(db, clock) as client:
            for n in range(10):
                link = await client.create_payment_link(100 + n, "Tab", f"reuse-{n}")
                await client.check_payment_status(link.payment_id, deadline=0.1)
            assert client.connect_count == 1
            assert len(sandbox_children(db)) == 1
        assert sandbox_children(db) == []


async def test_stdio_reconnects_after_the_server_is_killed(
    tmp_path: Path, clock: FakeClock
) -> None:
    db = tmp_path / "s.sqlite3"
    with anyio.fail_after(60):
        async with stdio_client(db, clock) as client:
            calls = count_client_calls(client)
            first = await client.create_payment_link(500, "Tab", "before-kill")
            assert await client.is_available()
            probes = calls.count(tool=LIST_TOOLS)
            [pid] = sandbox_children(db)
            kill(pid)
            second = await client.create_payment_link(600, "Tab", "after-kill")
            assert not second.is_simulated
            assert client.connect_count == 2
            # The write found the session dead; writes are never re-sent by the session
            # (the exactly-once rule), so the retry policy tried again once.
            assert clock.sleeps == [1.0]
            assert sandbox_children(db) != [pid]
            # The broken connection forgot the cached probe: the next check asks again.
            assert await client.is_available()
            assert calls.count(tool=LIST_TOOLS) == probes + 1
            status = await client.check_payment_status(first.payment_id, deadline=0.1)
            assert status.status == "pending"


async def test_stdio_crash_mid_create_recovers_without_a_second_link(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="maya.payments.server")
    db = tmp_path / "s.sqlite3"
    with anyio.fail_after(60):
        # The process makes the link, then dies before answering. The client reconnects
        # and looks the link up by its key instead of writing it again.
        async with stdio_client(db, clock, "--faults", "act_then_crash_on=2") as client:
            calls = count_client_calls(client)
            link = await client.create_payment_link(700, "Tab", "crashy")
            assert not link.is_simulated
            assert client.connect_count == 2
            assert calls.count(op="PostPaymentLinks") == 1
            assert calls.count(op="GetPaymentLinks") == 1
    async with stdio_client(db, clock) as reader:  # another process, the mark found
        read_calls = count_client_calls(reader)
        again = await reader.create_payment_link(700, "Tab", "crashy", look_first=True)
    assert again.payment_id == link.payment_id
    assert read_calls.count(op="PostPaymentLinks") == 0
    # The server's own stderr was logged under its name at DEBUG (its start-up line, its
    # last words), and a short WARNING said it stopped.
    server_lines = [r for r in caplog.records if r.name == "maya.payments.server.sandbox"]
    assert any(
        r.levelno == logging.DEBUG and "checkout pages at" in r.getMessage() for r in server_lines
    )
    assert any(
        r.levelno == logging.DEBUG and "injected crash" in r.getMessage() for r in server_lines
    )
    assert any(r.levelno == logging.WARNING and "stopped" in r.getMessage() for r in server_lines)


async def test_http_create_pay_and_see_it_succeed(
    http_sandbox: HttpSandbox, tmp_path: Path, clock: FakeClock
) -> None:
    config_file = tmp_path / "mcp.json"
    config_file.write_text(json.dumps({"mcpServers": {"stripe": {"url": http_sandbox.url}}}))
    config = load_server_config(config_path=config_file, environ={})
    assert config.mode == "test"
    with anyio.fail_after(60):
        async with StripeMCPClient.from_config(config, clock=clock, sleep=clock.sleep) as client:
            link = await client.create_payment_link(2500, "Tab", "http-key")
            assert link.url.startswith(f"http://127.0.0.1:{http_sandbox.port}/b/test_")
            assert (await pay_through_checkout_form(link.url, CARD_SUCCESS))["outcome"] == "paid"
            paid = await client.check_payment_status(link.payment_id)
            assert paid.status == "succeeded"
            for n in range(5):
                await client.create_payment_link(100 + n, "Tab", f"http-reuse-{n}")
            assert client.connect_count == 1


async def test_http_reconnects_after_the_server_restarts(
    http_sandbox: HttpSandbox, clock: FakeClock
) -> None:
    from maya.payments import McpServerConfig

    config = McpServerConfig(name="http-sandbox", transport="http", url=http_sandbox.url)
    with anyio.fail_after(60):
        async with StripeMCPClient.from_config(config, clock=clock, sleep=clock.sleep) as client:
            first = await client.create_payment_link(800, "Tab", "http-before")
            await http_sandbox.kill()
            down = await client.create_payment_link(900, "Tab", "http-while-down")
            assert down.is_simulated
            await http_sandbox.start()
            forget_availability(client)
            after = await client.create_payment_link(1000, "Tab", "http-after")
            assert not after.is_simulated
            assert client.connect_count == 2
            status = await client.check_payment_status(first.payment_id, deadline=0.1)
            assert status.status == "pending"
