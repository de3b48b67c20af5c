"""The soak driver: ``maya serve`` and ``maya mcp --http`` as real processes, offline (each
with its own sandbox), used as web and MCP customers use them for minutes on end, every
outcome counted in ``SoakFigures`` and each server's RSS sampled.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from anyio.abc import Process
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client

from maya.sandbox import CARD_SUCCESS
from maya.sandbox.remote import apay_url

__all__ = [
    "SoakFigures",
    "mcp_customer",
    "run_soak",
    "serving_mcp",
    "serving_web",
    "tree_rss",
    "web_customer",
]

SETTLE_WITHIN_S = 30.0
"""The longest a paid link may take to show as settled before the soak counts an error."""
_MCP_URL = re.compile(rb"maya mcp: serving at (http://\S+/mcp)")
_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class SoakFigures:
    """What one server did over the soak.

    Attributes:
        name: ``serve`` or ``mcp``.
        customers: customers started.
        links: payment links made (each checked real: not simulated, on the sandbox).
        settled: links seen settled.
        errors: every failed request or check, described.
        pay_to_settled_s: seconds from submitting the checkout form to seeing it settled.
        rss_sampled: bytes of the server's process tree at the sample time (a third of the
            way in: a minute into a three-minute soak).
        rss_end: the same at the end.
    """

    name: str
    customers: int = 0
    links: int = 0
    settled: int = 0
    errors: list[str] = field(default_factory=list)
    pay_to_settled_s: list[float] = field(default_factory=list)
    rss_sampled: int = 0
    rss_end: int = 0

    @property
    def rss_ratio(self) -> float:
        """RSS at the end over RSS at the sample time."""
        return self.rss_end / self.rss_sampled if self.rss_sampled else float("nan")

    def percentile(self, q: float) -> float:
        """The ``q`` quantile (0-1) of pay-to-settled seconds (nan when none)."""
        values = sorted(self.pay_to_settled_s)
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0]
        return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (0 when it is gone)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    family = {pid}
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    total = 0
    for member in family:
        try:
            total += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * _PAGE
        except OSError:
            continue
    return total


def _env(workdir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MAYA_", "STRIPE_")) and k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    }
    env["MAYA_SANDBOX_DB"] = str(workdir / "sandbox.sqlite3")
    env["MAYA_FORBID_REAL_MODEL"] = "1"
    return env


async def _stop(process: Process) -> None:
    if process.returncode is None:
        process.terminate()
        with anyio.move_on_after(15):
            await process.wait()
    if process.returncode is None:
        os.killpg(process.pid, signal.SIGKILL)  # the server, its sandbox, any worker
    with anyio.fail_after(15):
        await process.aclose()


async def _drain(stream: Any, into: Path) -> None:
    """Keep a pipe from filling: whatever the server writes goes to ``into``."""
    with into.open("ab") as sink:
        async for chunk in stream:
            sink.write(chunk)
            sink.flush()


@asynccontextmanager
async def serving_web(workdir: Path) -> AsyncIterator[tuple[Process, str]]:
    """``maya serve`` on port 0 in ``workdir`` (no ``mcp.json``: its own sandbox, whose
    events come back to it); yields the process and its base URL."""
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{workdir / 'tabs.sqlite3'}"
    with (workdir / "serve.log").open("wb") as log:
        process = await anyio.open_process(
            [sys.executable, "-m", "maya.cli", "serve", "--port", "0", "--store", store],
            env=_env(workdir),
            cwd=workdir,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,
        )
    try:
        assert process.stdout is not None
        stdout = BufferedByteReceiveStream(process.stdout)
        with anyio.fail_after(90):
            while b"listening on " not in (line := await stdout.receive_until(b"\n", 65536)):
                pass
        base = line.decode().split("listening on ", 1)[1].split()[0]
        async with anyio.create_task_group() as group:
            group.start_soon(_drain, stdout, workdir / "serve.out")
            yield process, base
            group.cancel_scope.cancel()
    finally:
        await _stop(process)


@asynccontextmanager
async def serving_mcp(workdir: Path) -> AsyncIterator[tuple[Process, str]]:
    """``maya mcp --http --port 0`` in ``workdir`` (its own sandbox); yields the
    process and its MCP URL."""
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    store = f"sqlite:///{workdir / 'tabs.sqlite3'}"
    process = await anyio.open_process(
        [sys.executable, "-m", "maya.cli", "mcp", "--http", "--port", "0", "--store", store],
        env=_env(workdir),
        cwd=workdir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert process.stderr is not None
        stderr = BufferedByteReceiveStream(process.stderr)
        with anyio.fail_after(90):
            while (found := _MCP_URL.search(await stderr.receive_until(b"\n", 65536))) is None:
                pass
        async with anyio.create_task_group() as group:
            group.start_soon(_drain, stderr, workdir / "mcp.log")
            yield process, found.group(1).decode()
            group.cancel_scope.cancel()
    finally:
        await _stop(process)


def _events(text: str) -> list[dict[str, Any]]:
    """The ``tab`` events in a piece of an event stream."""
    found = []
    for block in text.split("\n\n"):
        lines = block.split("\n")
        if "event: tab" in lines:
            data = next(line for line in lines if line.startswith("data: "))
            found.append(json.loads(data[len("data: ") :]))
    return found


async def _chat(browser: httpx.AsyncClient, message: str) -> dict[str, Any]:
    answer = await browser.post("/api/chat", json={"message": message})
    if answer.status_code != 200:
        raise AssertionError(f"chat {message!r}: HTTP {answer.status_code} {answer.text[:200]}")
    done = [e for e in answer.text.split("\n\n") if e.startswith("event: done")]
    if len(done) != 1:
        raise AssertionError(f"chat {message!r}: no answer in {answer.text[:300]!r}")
    result: dict[str, Any] = json.loads(done[0].split("data: ", 1)[1])
    if result.get("outcome") != "ok":
        raise AssertionError(f"chat {message!r}: {result}")
    return result


async def web_customer(base: str, figures: SoakFigures) -> None:
    """One customer of the page: new tab, order by chat, pay, see it settled."""
    figures.customers += 1
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}, timeout=30) as browser:
        page = await browser.get("/")
        if page.status_code != 200:
            raise AssertionError(f"GET /: HTTP {page.status_code}")
        seen: list[dict[str, Any]] = []
        settled = anyio.Event()

        async def watch() -> None:
            async with browser.stream("GET", "/api/tab/events") as stream:
                if stream.status_code != 200:
                    raise AssertionError(f"tab stream: HTTP {stream.status_code}")
                text = ""
                async for chunk in stream.aiter_text():
                    text += chunk
                    complete, _, text = text.rpartition("\n\n")
                    for view in _events(complete + "\n\n" if complete else ""):
                        seen.append(view)
                        if view["payment"]["status"] == "completed" and view["tab_cents"] == 0:
                            settled.set()

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            first = await _chat(browser, "a Negroni please")
            again = await _chat(browser, "same again")
            if "Negroni" not in first["reply"] or "Negroni" not in again["reply"]:
                raise AssertionError(f"orders misheard: {first['reply']!r} / {again['reply']!r}")
            asked = await _chat(browser, "I'd like to pay")
            link = asked.get("link") or {}
            if not link.get("url") or link.get("is_simulated") is not False:
                raise AssertionError(f"no real link: {asked}")
            if link.get("amount") != "$22.00":
                raise AssertionError(f"the link is for {link.get('amount')}, not $22.00")
            figures.links += 1
            paying = time.monotonic()
            paid = await apay_url(link["url"], CARD_SUCCESS, client=browser)
            if not paid.paid:
                raise AssertionError(f"the checkout refused the card: {paid.message}")
            with anyio.fail_after(SETTLE_WITHIN_S):
                await settled.wait()
            figures.pay_to_settled_s.append(time.monotonic() - paying)
            figures.settled += 1
            group.cancel_scope.cancel()
        tab = (await browser.get("/api/tab")).json()
        if tab["payment"]["status"] != "completed" or tab["balance_cents"] != 100_000 - 2200:
            raise AssertionError(f"the tab after settling: {tab}")


def _result(call: Any, name: str) -> dict[str, Any]:
    content = call.structured_content
    if call.is_error or not isinstance(content, dict) or content.get("status") != "ok":
        raise AssertionError(f"{name}: {content or call}")
    result: dict[str, Any] = content["result"]
    return result


async def mcp_customer(url: str, figures: SoakFigures) -> None:
    """One MCP client: new session (tab), order, tip, link, pay, status until succeeded."""
    figures.customers += 1
    async with Client(url, mode="legacy") as client:

        async def call(name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
            return _result(await client.call_tool(name, args or {}), name)

        await call("order_drink", {"name": "Negroni", "quantity": 2})
        tip = await call("set_tip", {"percent": 15})
        if tip["total_due_cents"] != 2530:
            raise AssertionError(f"set_tip: {tip}")
        link = await call("create_stripe_payment")
        if link.get("is_simulated") is not False or link.get("amount_cents") != 2530:
            raise AssertionError(f"no real link: {link}")
        figures.links += 1
        paying = time.monotonic()
        async with httpx.AsyncClient(timeout=30) as http:
            paid = await apay_url(link["url"], CARD_SUCCESS, client=http)
        if not paid.paid:
            raise AssertionError(f"the checkout refused the card: {paid.message}")
        with anyio.fail_after(SETTLE_WITHIN_S):
            # Polling is the point: MCP clients learn of a payment only by asking.
            while (await call("check_payment_status"))["payment_status"] != "succeeded":  # noqa: ASYNC110
                await anyio.sleep(0.5)
        figures.pay_to_settled_s.append(time.monotonic() - paying)
        bill = await call("get_bill")
        if bill["tab_cents"] != 0 or bill["payment"]["status"] != "completed":
            raise AssertionError(f"get_bill after paying: {bill}")
        figures.settled += 1


def _described(exc: BaseException) -> str:
    """What went wrong, with the failures inside a task group spelled out."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_described(inner) for inner in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


async def run_soak(
    customer: Callable[[], Awaitable[None]],
    figures: SoakFigures,
    pid: int,
    *,
    duration_s: float,
    every_s: float,
    offset_s: float = 0.0,
    sample_at_s: float,
) -> None:
    """Start ``customer()`` every ``every_s`` seconds for ``duration_s`` (after
    ``offset_s``), sampling the RSS of ``pid``'s tree at ``sample_at_s`` and at the end.

    A customer that raises is counted in ``figures.errors``; the others go on.
    """
    started = time.monotonic()

    async def one(number: int) -> None:
        try:
            await customer()
        except Exception as exc:  # every failure is a finding, not a stop
            figures.errors.append(f"{figures.name} customer {number}: {_described(exc)}")

    async def sample() -> None:
        await anyio.sleep(max(0.0, started + sample_at_s - time.monotonic()))
        figures.rss_sampled = tree_rss(pid)

    async with anyio.create_task_group() as group:
        group.start_soon(sample)
        number = 0
        # The last customer arrives at least half a period before the end.
        while offset_s + number * every_s <= duration_s - every_s / 2:
            await anyio.sleep(max(0.0, started + offset_s + number * every_s - time.monotonic()))
            group.start_soon(one, number)
            number += 1
        await anyio.sleep(max(0.0, started + duration_s - time.monotonic()))
    figures.rss_end = tree_rss(pid)


async def soak_serve_and_mcp(
    workdir: Path, *, duration_s: float, every_s: float
) -> tuple[SoakFigures, SoakFigures]:
    """``maya serve`` (under ``workdir/serve``) and ``maya mcp --http`` (``workdir/mcp``)
    soaked side by side, a customer each every ``every_s`` seconds, half a period apart;
    each one's RSS sampled a third of the way in and at the end.

    Returns:
        The figures of the web side and of the MCP side.
    """
    web, mcp = SoakFigures("serve"), SoakFigures("mcp")
    async with (
        serving_web(workdir / "serve") as (serve_process, base),
        serving_mcp(workdir / "mcp") as (mcp_process, url),
        anyio.create_task_group() as group,
    ):
        for customer, figures, pid, offset in (
            (functools.partial(web_customer, base, web), web, serve_process.pid, 0.0),
            (functools.partial(mcp_customer, url, mcp), mcp, mcp_process.pid, every_s / 2),
        ):
            group.start_soon(
                functools.partial(
                    run_soak,
                    customer,
                    figures,
                    pid,
                    duration_s=duration_s,
                    every_s=every_s,
                    offset_s=offset,
                    sample_at_s=duration_s / 3,
                )
            )
    return web, mcp
