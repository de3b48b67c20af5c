"""What one process writes, a new process reads back exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from maya.bar import load_menu
from maya.state.manager import TabManager
from maya.state.models import TabState
from maya.testing import FakeClock

from ._scenarios import EPOCH, rich_tab
from .conftest import Backend
from .test_concurrency import run_worker

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_new_process_reads_back_exactly_what_was_written(sql_backend: Backend) -> None:
    async with sql_backend.open() as store:  # type: ignore[attr-defined]
        written = await rich_tab(
            TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu()), "kept"
        )
    dumped = await run_worker({"op": "dump", "url": sql_backend.url, "session": "kept"})
    assert TabState.model_validate(dumped) == written
    assert await run_worker({"op": "dump", "url": sql_backend.url, "session": "never"}) is None


async def test_what_another_process_wrote_is_read_back_exactly(sql_backend: Backend) -> None:
    answered = await run_worker({"op": "write", "url": sql_backend.url, "session": "theirs"})
    written = TabState.model_validate(answered)
    assert written.items and written.payments and written.tip_percent == 10
    async with sql_backend.open() as store:  # type: ignore[attr-defined]
        assert await store.load("theirs") == written
        # And it carries on from there: the next write builds on what was read.
        after = await TabManager(store, catalog=load_menu()).order("theirs", "Water")
        assert after.version == written.version + 1
        assert after.items[:-1] == written.items
