"""One link per tab across processes: the durable "write sent" mark, on SQLite and PostgreSQL.

Two real OS processes (``_pay_worker.py``) share one tab store and one sandbox served over
HTTP; the sandbox, like Stripe, makes a new link for every write whatever its metadata.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from maya.bar import load_menu
from maya.sandbox import SandboxStore
from maya.state.manager import TabManager
from maya.state.open import open_store
from state.conftest import Backend, sql_backend

from .conftest import HttpSandbox

__all__ = ["sql_backend"]  # the state tests' SQLite and PostgreSQL backends

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

WORKER = Path(__file__).with_name("_pay_worker.py")
SESSION = "two-workers"


async def _tab_with_drinks(backend: Backend) -> None:
    store = open_store(backend.url)
    try:
        manager = TabManager(store, catalog=load_menu())
        await manager.order(SESSION, "Martini", 2)
        await manager.set_tip(SESSION, 15)
    finally:
        await store.aclose()


def _request(backend: Backend, sandbox: HttpSandbox) -> str:
    return json.dumps({"store": backend.url, "mcp": sandbox.url, "session": SESSION})


async def _spawn(request: str) -> anyio.abc.Process:
    return await anyio.open_process(
        [sys.executable, str(WORKER), request], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


async def _answer(process: anyio.abc.Process) -> dict[str, Any]:
    assert process.stdout is not None and process.stderr is not None
    out = b""
    async for chunk in process.stdout:
        out += chunk
    errors = b"".join([chunk async for chunk in process.stderr])
    assert await process.wait() == 0, errors.decode()[-2000:]
    response: dict[str, Any] = json.loads(out)
    assert response["status"] == "ok", response
    result: dict[str, Any] = response["result"]
    return result


def _links(db: Path) -> list[dict[str, Any]]:
    with SandboxStore(db) as sandbox:
        links, _ = sandbox.list_payment_links(limit=100)
    return links


async def _stored_payment_id(backend: Backend) -> str | None:
    store = open_store(backend.url)
    try:
        state = await TabManager(store, catalog=load_menu()).get(SESSION)
    finally:
        await store.aclose()
    current = state.current_payment
    return None if current is None else current.payment_id


@pytest.fixture
async def hanging_sandbox(tmp_path: Path) -> Any:
    """The first link write is carried out, then never answered (the lost reply)."""
    sandbox = HttpSandbox(
        tmp_path / "stripe.sqlite3",
        extra=("--dialect", "generic", "--faults", "act_then_hang_on=1,only=PostPaymentLinks"),
    )
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.kill()


@pytest.fixture
async def slow_sandbox(tmp_path: Path) -> Any:
    """Every link write takes a while: two processes asking at once overlap."""
    sandbox = HttpSandbox(
        tmp_path / "stripe.sqlite3",
        extra=("--dialect", "generic", "--faults", "latency=0.5,only=PostPaymentLinks"),
    )
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.kill()


async def test_a_process_killed_after_its_link_write_leaves_one_link_for_the_next(
    sql_backend: Backend, hanging_sandbox: HttpSandbox
) -> None:
    await _tab_with_drinks(sql_backend)
    request = _request(sql_backend, hanging_sandbox)
    with anyio.fail_after(90):
        first = await _spawn(request)
        try:
            while not _links(hanging_sandbox.db):  # the write reached "Stripe"...
                assert first.returncode is None, "the first process ended before writing"
                await anyio.sleep(0.05)
        finally:
            first.kill()  # ...and its process dies (SIGKILL) before the reply
            await first.wait()
        assert await _stored_payment_id(sql_backend) is None  # it never recorded the link
        second = await _answer(await _spawn(request))
    links = _links(hanging_sandbox.db)
    assert len(links) == 1, "a second link was written for the same tab"
    assert second["payment_id"] == links[0]["id"]
    assert second["amount_cents"] == 2990 and second["is_simulated"] is False
    assert await _stored_payment_id(sql_backend) == links[0]["id"]


async def test_two_processes_asking_at_once_make_one_link(
    sql_backend: Backend, slow_sandbox: HttpSandbox
) -> None:
    await _tab_with_drinks(sql_backend)
    request = _request(sql_backend, slow_sandbox)
    with anyio.fail_after(90):
        processes = [await _spawn(request), await _spawn(request)]
        answers: list[dict[str, Any]] = []

        async def collect(process: anyio.abc.Process) -> None:
            answers.append(await _answer(process))

        async with anyio.create_task_group() as group:
            for process in processes:
                group.start_soon(collect, process)
    links = _links(slow_sandbox.db)
    assert len(links) == 1, f"{len(links)} links for one tab"
    assert [a["payment_id"] for a in answers] == [links[0]["id"]] * 2
    assert await _stored_payment_id(sql_backend) == links[0]["id"]
