"""Suite-wide guards: no real model, no real keys, traces into a temp dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis examples run against real stores; wall-clock deadlines would only add flakes.
settings.register_profile("maya", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "maya"))

_SECRET_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "STRIPE_SECRET_KEY", "MAYA_ALLOW_LIVE")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test runs with no real keys, real model calls forbidden, and its own trace dir."""
    for name in _SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MAYA_FORBID_REAL_MODEL", "1")
    monkeypatch.setenv("MAYA_TRACE_DIR", str(tmp_path / "traces"))
    # The server's secret file, never the user's own (maya.signing).
    monkeypatch.setenv("MAYA_SERVER_SECRET_FILE", str(tmp_path / "server-secret"))
    yield


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio (what google-genai and mcp use)."""
    return "asyncio"
