"""Many writers on one tab: no lost or doubled update, refusals exactly where money ends.

A $1,000.00 balance and 200 orders of a $13.00 Martini: 76 are accepted ($988.00) and
124 refused, each refusal seeing the $12.00 that is left. Run as 200 tasks in one
process on every store, and as 4 processes x 50 tasks on one SQLite file or PostgreSQL.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from maya.bar import load_menu
from maya.codes import ErrorCode
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.models import TabState
from maya.state.store import TabStore

from .conftest import Backend

pytestmark = pytest.mark.anyio

ORDERS = 200
PROCESSES = 4
ACCEPTED = 100_000 // 1300  # 76
WORKER = Path(__file__).with_name("_worker.py")


def assert_exactly_the_affordable_orders(state: TabState | None) -> None:
    assert state is not None
    assert len(state.items) == ACCEPTED
    assert state.tab_cents == ACCEPTED * 1300 == sum(item.line_cents for item in state.items)
    assert state.balance_cents == 100_000 - ACCEPTED * 1300 == 1200
    assert state.version == ACCEPTED
    assert [item.seq for item in state.items] == list(range(1, ACCEPTED + 1))
    assert state.next_item_seq == ACCEPTED + 1


async def test_200_concurrent_orders_on_one_session(store: TabStore) -> None:
    manager = TabManager(store, catalog=load_menu())
    accepted = 0
    refusals: list[StateError] = []

    async def one() -> None:
        nonlocal accepted
        try:
            await manager.order("crowd", "Martini")
        except StateError as exc:
            refusals.append(exc)
        else:
            accepted += 1

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for _ in range(ORDERS):
                group.start_soon(one)
    assert accepted == ACCEPTED
    assert len(refusals) == ORDERS - ACCEPTED
    assert {exc.code for exc in refusals} == {ErrorCode.INSUFFICIENT_FUNDS}
    assert {exc.details["balance"] for exc in refusals} == {"$12.00"}
    assert_exactly_the_affordable_orders(await store.load("crowd"))


async def run_worker(request: dict[str, Any]) -> Any:
    """Run ``_worker.py`` in a new interpreter; its JSON answer."""
    done = await anyio.run_process([sys.executable, str(WORKER), json.dumps(request)], check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return json.loads(done.stdout)


@pytest.mark.slow
async def test_orders_from_four_processes_on_one_store(sql_backend: Backend) -> None:
    answers: list[dict[str, Any]] = []

    async def process() -> None:
        answers.append(
            await run_worker(
                {
                    "op": "orders",
                    "url": sql_backend.url,
                    "session": "crowd",
                    "item": "Martini",
                    "count": ORDERS // PROCESSES,
                }
            )
        )

    # The processes also race to create the schema in a store none of them has seen.
    with anyio.fail_after(90):
        async with anyio.create_task_group() as group:
            for _ in range(PROCESSES):
                group.start_soon(process)
    assert sum(a["accepted"] for a in answers) == ACCEPTED
    refused = [r for a in answers for r in a["refused"]]
    assert len(refused) == ORDERS - ACCEPTED
    assert set(refused) == {"INSUFFICIENT_FUNDS $12.00"}
    async with sql_backend.open() as store:  # type: ignore[attr-defined]
        assert_exactly_the_affordable_orders(await store.load("crowd"))


@pytest.mark.slow
async def test_concurrent_first_writes_of_many_sessions(sql_backend: Backend) -> None:
    # Two tasks per new session, at once: both first writes land, neither is an error.
    async with sql_backend.open() as store:  # type: ignore[attr-defined]
        manager = TabManager(store, catalog=load_menu())
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for n in range(20):
                    for item in ("Water", "Soda"):
                        group.start_soon(manager.order, f"new-{n}", item)
        for n in range(20):
            state = await store.load(f"new-{n}")
            assert state is not None
            assert sorted(i.name for i in state.items) == ["Soda", "Water"]
            assert state.version == 2 and state.tab_cents == 400
