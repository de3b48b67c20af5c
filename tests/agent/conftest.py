"""Fixtures for the agent's tests: a real tab manager and toolset, and a trace folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maya.agent import Agent, JsonlTracer, Model
from maya.state import MemoryTabStore, TabManager
from maya.tools import Toolset

SESSION = "test-session"


@pytest.fixture(autouse=True)
def _forbid_real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test in this folder may reach a real model, whatever the outer conftest does."""
    monkeypatch.setenv("MAYA_FORBID_REAL_MODEL", "1")
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def anyio_backend() -> str:
    """google-genai and mcp run on asyncio."""
    return "asyncio"


@pytest.fixture
def manager() -> TabManager:
    """A tab manager over a fresh in-memory store."""
    return TabManager(MemoryTabStore())


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
    """Build an agent on ``model`` with the real toolset, tracing into ``trace_dir``."""

    def build(model: Model, **options: object) -> Agent:
        return Agent(
            model=model,
            toolset=toolset,
            manager=manager,
            tracer=JsonlTracer(trace_dir),
            **options,  # type: ignore[arg-type]
        )

    return build
