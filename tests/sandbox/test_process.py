"""The real thing: ``python -m maya.sandbox`` as a subprocess, over stdio and over HTTP."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import anyio
import httpx
import pytest
from anyio.abc import Process
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from sandbox_helpers import Stripe, text_of

from maya.sandbox import CARD_GENERIC_DECLINE, CARD_SUCCESS, CRASH_EXIT_CODE

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

_CHECKOUT = re.compile(r"checkout pages at (http://127\.0\.0\.1:\d+)")


def _sandbox_args(db: Path, *extra: str) -> list[str]:
    # The helper speaks the generic dialect; the hosted default is tested in tests/payments.
    dialect = () if "--dialect" in extra else ("--dialect", "generic")
    return ["-m", "maya.sandbox", "--db", str(db), *dialect, *extra]


def _clean_env() -> dict[str, str]:
    # A fault spec in the developer's shell must not leak into these tests.
    return {k: v for k, v in os.environ.items() if k != "MAYA_SANDBOX_FAULTS"}


@asynccontextmanager
async def _stdio_sandbox(
    tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Stripe, str]]:
    """A stdio sandbox subprocess, its client, and the checkout base URL it announced."""
    params = StdioServerParameters(
        command=sys.executable, args=_sandbox_args(tmp_path / "db.sqlite3", *extra), env=env
    )
    with (tmp_path / "stderr.txt").open("w+") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            errlog.seek(0)
            match = _CHECKOUT.search(errlog.read())
            assert match, "the sandbox did not announce its checkout URL on stderr"
            yield Stripe(client), match.group(1)


async def test_stdio_sandbox_creates_a_link_that_the_checkout_page_completes(
    tmp_path: Path,
) -> None:
    with anyio.fail_after(60):
        async with _stdio_sandbox(tmp_path) as (stripe, checkout):
            link = await stripe.link(unit_amount=1250, metadata={"idempotency_key": "s1"})
            assert link["url"].startswith(f"{checkout}/b/test_")
            async with httpx.AsyncClient() as browser:
                page = await browser.get(link["url"])
                paid = await browser.post(link["url"], data={"card_number": "4242 4242 4242 4242"})
            [session] = await stripe.sessions(link["id"])
    assert "$12.50" in page.text
    assert paid.status_code == 200
    assert (session["status"], session["payment_status"]) == ("complete", "paid")


async def test_stdio_hang_makes_the_client_time_out(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with _stdio_sandbox(tmp_path, "--faults", "hang_after=0") as (stripe, _):
            with pytest.raises(TimeoutError), anyio.fail_after(1):
                await stripe.call("PostProducts", {"name": "Never"})


async def test_named_dialect_with_text_failures_from_the_environment(tmp_path: Path) -> None:
    env = {"MAYA_SANDBOX_FAULTS": "text_failures=1"}
    with anyio.fail_after(60):
        async with _stdio_sandbox(tmp_path, "--dialect", "named", env=env) as (stripe, _):
            tools = {tool.name for tool in (await stripe.client.list_tools()).tools}
            result = await stripe.client.call_tool("create_product", {"name": "X"})
    assert "create_payment_link" in tools
    assert (result.is_error, text_of(result)) == (False, '"Failed to create product"')


@asynccontextmanager
async def _http_sandbox(tmp_path: Path, *extra: str) -> AsyncIterator[tuple[str, Process]]:
    """An HTTP sandbox subprocess on the port it bound (port 0), ready to serve; yields the
    base URL it announced."""
    args = _sandbox_args(tmp_path / "db.sqlite3", "--http", "--port", "0", *extra)
    stderr: IO[bytes]
    with (tmp_path / "stderr-http.txt").open("wb") as stderr:
        process = await anyio.open_process(
            [sys.executable, *args], stdin=None, stdout=None, stderr=stderr, env=_clean_env()
        )
        try:
            with anyio.fail_after(30):
                while not (match := _CHECKOUT.search(await anyio.Path(stderr.name).read_text())):
                    assert process.returncode is None, "the sandbox exited while starting"
                    await anyio.sleep(0.05)
            yield match.group(1), process
        finally:
            if process.returncode is None:
                process.terminate()
            with anyio.fail_after(15):
                await process.wait()


async def _pay_with_cli(url: str, card: str) -> tuple[int, str]:
    with anyio.fail_after(30):
        done = await anyio.run_process(
            [sys.executable, "-m", "maya.sandbox", "pay", url, "--card", card],
            check=False,
            env=_clean_env(),
        )
    return done.returncode, done.stdout.decode()


async def test_http_sandbox_serves_mcp_and_checkout_and_keeps_objects_across_restarts(
    tmp_path: Path,
) -> None:
    async with _http_sandbox(tmp_path) as (base, _):
        with anyio.fail_after(30):
            async with Client(f"{base}/mcp") as client:
                stripe = Stripe(client)
                link = await stripe.link(unit_amount=1250)
                assert link["url"].startswith(f"{base}/b/test_")
                declined = await _pay_with_cli(link["url"], CARD_GENERIC_DECLINE)
                paid = await _pay_with_cli(link["url"], CARD_SUCCESS)
                [session] = await stripe.sessions(link["id"])
    assert declined[0] == 1
    assert "Your card was declined." in declined[1]
    assert paid[0] == 0
    assert "Paid $12.50" in paid[1]
    assert (session["status"], session["payment_status"]) == ("complete", "paid")

    async with _http_sandbox(tmp_path) as (restarted, _):
        with anyio.fail_after(30):
            async with Client(f"{restarted}/mcp") as client:
                stripe = Stripe(client)
                again = await stripe.call(
                    "GetPaymentLinksPaymentLink", {"payment_link": link["id"]}
                )
                [kept] = await stripe.sessions(link["id"])
    assert again["url"].startswith(f"{restarted}/b/test_")
    assert kept["id"] == session["id"]


async def test_crash_after_ends_the_process_on_the_next_call(tmp_path: Path) -> None:
    async with _http_sandbox(tmp_path, "--faults", "crash_after=1") as (base, process):
        with anyio.fail_after(30):
            async with Client(f"{base}/mcp") as client:
                first = await Stripe(client).call("PostProducts", {"name": "First"})
            # How a dead server surfaces is the client library's business; any failure will do.
            with pytest.raises(Exception):  # noqa: B017
                async with Client(f"{base}/mcp") as client:
                    await Stripe(client).call("PostProducts", {"name": "Second"})
            assert await process.wait() == CRASH_EXIT_CODE
    assert first["object"] == "product"


async def test_a_restarted_stdio_sandbox_serves_the_links_it_made_before(
    tmp_path: Path,
) -> None:
    """Offline, ``maya serve``/``maya chat`` start the sandbox over stdio with port 0: after
    a restart it comes back on the same address, so a tab's link still opens."""
    with anyio.fail_after(60):
        async with _stdio_sandbox(tmp_path) as (stripe, first_base):
            link = await stripe.link(unit_amount=1250, metadata={"idempotency_key": "r1"})
        async with _stdio_sandbox(tmp_path) as (_, second_base), httpx.AsyncClient() as browser:
            page = await browser.get(link["url"])
    assert second_base == first_base
    assert page.status_code == 200 and "$12.50" in page.text


async def test_a_restarted_http_sandbox_comes_back_on_its_port(tmp_path: Path) -> None:
    async with _http_sandbox(tmp_path) as (first_base, _):
        pass
    async with _http_sandbox(tmp_path) as (second_base, _):
        pass
    assert second_base == first_base
