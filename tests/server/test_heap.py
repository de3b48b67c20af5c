"""A started server's heap is set aside from the cyclic collector, its garbage first."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import anyio
import pytest

from maya.server import command, serve
from maya.server.heap import SERVER_GC_THRESHOLDS, freeze_started_heap

from .test_serve import clean_env


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()  # the rest of the run collects as usual
        gc.set_threshold(*thresholds)


def test_the_started_heap_is_set_aside_after_its_garbage_is_collected(unfrozen: None) -> None:
    kept, dropped = _Node(), _Node()
    gone = weakref.ref(dropped)
    del dropped
    frozen = freeze_started_heap()
    assert gone() is None  # garbage is collected, not kept for good
    assert frozen == gc.get_freeze_count() > 0
    # What is alive is out of the collector's sight: a full collection no longer walks it.
    assert all(found is not kept for found in gc.get_objects())
    made_after = _Node()
    assert any(found is made_after for found in gc.get_objects())


def test_a_started_server_still_collects_its_garbage_at_its_own_pace(unfrozen: None) -> None:
    freeze_started_heap()
    assert gc.get_threshold() == SERVER_GC_THRESHOLDS
    assert gc.isenabled()
    first = _Node()
    gone = weakref.ref(first)
    del first
    # Garbage in cycles is freed by the collector on its own once enough is made: no
    # gc.collect() here.
    for _ in range(SERVER_GC_THRESHOLDS[0] * 2):
        _Node()
        if gone() is None:
            break
    assert gone() is None


@pytest.mark.anyio
@pytest.mark.slow
async def test_serve_sets_its_heap_aside_once_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unfrozen: None
) -> None:
    monkeypatch.chdir(tmp_path)
    assert gc.get_freeze_count() == 0
    frozen = anyio.Event()

    def noted() -> int:  # the real one, and a word when it has run
        count = freeze_started_heap()
        frozen.set()
        return count

    monkeypatch.setattr(command, "freeze_started_heap", noted)
    announced = StringIO()
    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: serve(
                port=0,
                store_url=f"sqlite:///{tmp_path / 'tabs.sqlite3'}",
                environ=clean_env(tmp_path),
                announce=announced,
            )
        )
        with anyio.fail_after(30):
            await frozen.wait()
        assert gc.get_freeze_count() > 0
        assert "listening on http://127.0.0.1:" in announced.getvalue()
        group.cancel_scope.cancel()
