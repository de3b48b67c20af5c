"""Fixtures for the agent's tests: a real tab manager and toolset, and a trace folder;
the state tests' SQL backends (``sql_backend``) for conversation memory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maya.agent import Agent, JsonlTracer, Model
from maya.bar import load_menu
from maya.state import MemoryTabStore, TabManager
from maya.testing import FakeClock
from maya.tools import Toolset
from state.conftest import sql_backend

__all__ = ["sql_backend"]

SESSION = "test-session"


@pytest.fixture
def manager() -> TabManager:
    """A tab manager over a fresh in-memory store."""
    return TabManager(MemoryTabStore(), catalog=load_menu())


@pytest.fixture
def toolset(manager: TabManager) -> Toolset:
    """Maya's real tools, without a payment gateway."""
    return Toolset(manager=manager, payments=None)


@pytest.fixture
def trace_dir(tmp_path: Path) -> Path:
    """Where this test's traces go."""
    return tmp_path / "traces"


@pytest.fixture
def make_agent(toolset: Toolset, manager: TabManager, trace_dir: Path) -> Callable[..., Agent]:
    """Build an agent on ``model`` with the real toolset, tracing into ``trace_dir``.

    Time is a ``FakeClock`` unless the test passes its own ``clock``/``sleep``: a retry's
    wait is recorded, never waited.
    """

    def build(model: Model, **options: object) -> Agent:
        if "clock" not in options:
            clock = FakeClock()
            options = {"clock": clock, "sleep": clock.sleep, **options}
        return Agent(
            model=model,
            toolset=toolset,
            manager=manager,
            tracer=JsonlTracer(trace_dir),
            **options,  # type: ignore[arg-type]
        )

    return build
